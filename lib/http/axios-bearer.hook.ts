import type { AxiosError, AxiosInstance, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { configMessages } from '../errors/messages.js';
import { OAuthConfigError } from '../errors/oauth-config.error.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { parseRequestUrl, type AttachToMatch } from './attach-to.matcher.js';
import type { OAuthRequestOption, OAuthRequestOptions } from './oauth-request.options.js';

/**
 * One OAuthModule instance as seen by an axios instance: its clients, their `attachTo` prefixes
 * and its TokenService. Several apps in one process may share an axios instance (plain `HttpModule`
 * binds the process-wide axios default); each registers as a participant of ONE hook.
 */
export interface BearerParticipant {
  knows(client: string): boolean;
  match(url: URL): AttachToMatch | undefined;
  isTokenEndpoint(url: URL): boolean;
  getToken(client: string, scope: string | string[] | undefined): Promise<AccessToken>;
  /** Compare-and-invalidate after a 401: drops `accessToken` only if it is still the cached one. */
  rejected(client: string, scope: string | string[] | undefined, accessToken: string, willRetry: boolean): Promise<void>;
}

/** What the request interceptor attached, kept beside the config object (never inside it). */
interface Attachment {
  participant: BearerParticipant;
  client: string;
  scope: string | string[] | undefined;
  accessToken: string;
  retryOn401: boolean | undefined;
}

const IDEMPOTENT_METHODS = new Set(['get', 'head', 'options', 'put', 'delete']);

/**
 * The request and response interceptors of one axios instance, installed once however many
 * OAuthModule instances (apps, test modules) use that axios instance, and ejected when the last
 * one leaves. Kept in a WeakMap keyed by the axios instance, so nothing is added to axios itself.
 */
class AxiosBearerHook {
  private readonly participants: BearerParticipant[] = [];
  private readonly attachments = new WeakMap<object, Attachment>();
  private requestId: number | undefined;
  private responseId: number | undefined;

  constructor(private readonly axios: AxiosInstance) {}

  get size(): number {
    return this.participants.length;
  }

  add(participant: BearerParticipant): void {
    if (this.participants.includes(participant)) return;
    this.participants.push(participant);
    if (this.requestId === undefined) {
      this.requestId = this.axios.interceptors.request.use((config) => this.onRequest(config));
      this.responseId = this.axios.interceptors.response.use(undefined, (error: unknown) => this.onResponseError(error));
    }
  }

  remove(participant: BearerParticipant): void {
    const index = this.participants.indexOf(participant);
    if (index >= 0) this.participants.splice(index, 1);
    if (this.participants.length === 0 && this.requestId !== undefined) {
      this.axios.interceptors.request.eject(this.requestId);
      this.axios.interceptors.response.eject(this.responseId!);
      this.requestId = this.responseId = undefined;
    }
  }

  private async onRequest(config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig> {
    const option = config.oauth;
    if (option === false || this.participants.length === 0) return config;
    // A header (or `auth`) the caller set is never overwritten, and no token is fetched for it.
    if (config.headers.has('Authorization') || config.auth !== undefined) return config;
    const selection = readOption(option);

    const url = config.socketPath ? undefined : parseRequestUrl(fullPath(config));
    // Credentials in the URL are the caller's own authorization (axios turns them into Basic).
    if (url !== undefined && (url.username !== '' || url.password !== '')) return config;

    let participant: BearerParticipant | undefined;
    let client: string | undefined = selection.client;
    if (client !== undefined) {
      participant = this.participants.find((p) => p.knows(client!));
      if (participant === undefined) throw new OAuthConfigError(configMessages.unknownClient(client), client);
    } else {
      if (url === undefined) return config;
      let best: AttachToMatch | undefined;
      for (const candidate of this.participants) {
        const match = candidate.match(url);
        if (match !== undefined && (best === undefined || match.length > best.length)) {
          best = match;
          participant = candidate;
        }
      }
      if (best === undefined) return config;
      client = best.client;
    }
    if (url !== undefined && this.participants.some((p) => p.isTokenEndpoint(url))) return config;

    // Fail closed: if no token can be had, this rejects and the request is never sent.
    const token = await participant!.getToken(client, selection.scope);
    config.headers.set('Authorization', `Bearer ${token.accessToken}`);
    config.beforeRedirect = stripAuthorizationOffOrigin(url?.origin, config.beforeRedirect);
    this.attachments.set(config, {
      participant: participant!,
      client,
      scope: selection.scope,
      accessToken: token.accessToken,
      retryOn401: selection.retryOn401,
    });
    return config;
  }

  private async onResponseError(error: unknown): Promise<AxiosResponse> {
    const config = (error as AxiosError | undefined)?.config;
    const attachment = config === undefined ? undefined : this.attachments.get(config);
    if (attachment === undefined || (error as AxiosError).response?.status !== 401) throw error;

    const retry = mayRetry(config!, attachment);
    try {
      await attachment.participant.rejected(attachment.client, attachment.scope, attachment.accessToken, retry);
    } catch {
      throw error;
    }
    if (!retry) throw error;
    // The retry goes through every interceptor again; ours attaches the fresh token. Pinning the
    // client and `retryOn401: false` makes it the last attempt: never a loop.
    config!.headers.delete('Authorization');
    const again: AxiosRequestConfig = {
      ...config!,
      oauth: { client: attachment.client, scope: attachment.scope, retryOn401: false },
    };
    return this.axios.request(again);
  }
}

/**
 * The URL the request goes to, as axios's http adapter builds it (`buildFullPath`). The config an
 * interceptor sees is already merged with the instance defaults, so `axios.getUri(config)` (which
 * merges them again, ~15 µs a call) is not needed; the query string does not matter for matching.
 */
function fullPath(config: InternalAxiosRequestConfig): string {
  const { baseURL, url = '' } = config;
  const absolute = /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url);
  if (!baseURL || (absolute && config.allowAbsoluteUrls !== false)) return url;
  return url ? `${baseURL.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : baseURL;
}

function readOption(option: OAuthRequestOption | undefined): OAuthRequestOptions {
  if (option === undefined) return {};
  if (typeof option === 'string') return { client: option };
  if (typeof option === 'object' && option !== null) {
    if (option.client !== undefined && typeof option.client !== 'string') {
      throw new OAuthConfigError(configMessages.invalidOption(undefined, 'oauth.client', 'must be a client name'), undefined, 'oauth');
    }
    return option;
  }
  throw new OAuthConfigError(
    configMessages.invalidOption(undefined, 'oauth', 'must be a client name, false or { client?, scope?, retryOn401? }'),
    undefined,
    'oauth',
  );
}

function mayRetry(config: InternalAxiosRequestConfig, attachment: Attachment): boolean {
  if (attachment.retryOn401 === false || isStream(config.data)) return false;
  return attachment.retryOn401 === true || IDEMPOTENT_METHODS.has((config.method ?? 'get').toLowerCase());
}

/** A request body that was a stream has been consumed: it cannot be sent again. */
function isStream(data: unknown): boolean {
  return typeof data === 'object' && data !== null && typeof (data as { pipe?: unknown }).pipe === 'function';
}

type BeforeRedirect = NonNullable<AxiosRequestConfig['beforeRedirect']>;

/**
 * follow-redirects keeps headers on a redirect to the same host name (another port) or to a
 * subdomain; our token must not leave the origin it was attached for. Runs after the caller's own
 * `beforeRedirect`.
 */
function stripAuthorizationOffOrigin(origin: string | undefined, previous: BeforeRedirect | undefined): BeforeRedirect {
  return (options, responseDetails, requestDetails) => {
    previous?.(options, responseDetails, requestDetails);
    const target = typeof options.href === 'string' ? parseRequestUrl(options.href) : undefined;
    if (origin !== undefined && target?.origin === origin) return;
    const headers = options.headers as Record<string, unknown> | undefined;
    if (headers === undefined) return;
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
  };
}

const hooks = new WeakMap<AxiosInstance, AxiosBearerHook>();

/** Adds `participant` to the axios instance's hook, installing the interceptors on first use. */
export function joinAxiosInstance(axios: AxiosInstance, participant: BearerParticipant): void {
  let hook = hooks.get(axios);
  if (hook === undefined) hooks.set(axios, (hook = new AxiosBearerHook(axios)));
  hook.add(participant);
}

/** Removes `participant`; the last one to leave ejects the interceptors. */
export function leaveAxiosInstance(axios: AxiosInstance, participant: BearerParticipant): void {
  const hook = hooks.get(axios);
  if (hook === undefined) return;
  hook.remove(participant);
  if (hook.size === 0) hooks.delete(axios);
}
