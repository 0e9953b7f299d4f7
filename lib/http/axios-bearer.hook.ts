import type { AxiosError, AxiosInstance, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { parseRequestUrl } from './attach-to.matcher.js';
import type { BearerParticipant } from './bearer-participant.js';
import { chooseClient, NO_URL_TARGET, readSelection, retriesAfter401, tokenMayFollow } from './bearer-policy.js';
import type { OAuthRequestOptions } from './oauth-request.options.js';
import { fullPath, RequestTargets, type ChosenClient } from './request-targets.js';
import { apiWantsNonce } from '../dpop/dpop-challenge.js';

/** What the request interceptor attached, kept beside the config object (never inside it). */
interface Attachment {
  participant: BearerParticipant;
  client: string;
  scope: string | string[] | undefined;
  accessToken: string;
  /** The token as attached: a DPoP-bound one gets a proof per hop. */
  token: AccessToken;
  retryOn401: boolean | undefined;
  /** Set when this is the one resend after a DPoP nonce demand: a second demand is the caller's answer. */
  nonceRetried: boolean;
  /** Set when a redirect hop dropped the token: a 401 after that is not an answer to our token. */
  stripped: boolean;
}

/**
 * The request and response interceptors of one axios instance, installed once however many
 * OAuthModule instances (apps, test modules) use that axios instance, and ejected when the last
 * one leaves. Kept in a WeakMap keyed by the axios instance, so nothing is added to axios itself.
 */
class AxiosBearerHook {
  private readonly participants: BearerParticipant[] = [];
  private readonly targets = new RequestTargets(this.participants);
  private readonly attachments = new WeakMap<object, Attachment>();
  /** Startup holds: while any is pending, calls wait (an OAuthModule is being created and will join). */
  private readonly holds = new Set<Promise<void>>();
  private requestId: number | undefined;
  private responseId: number | undefined;

  constructor(private readonly axios: AxiosInstance) {}

  get idle(): boolean {
    return this.participants.length === 0 && this.holds.size === 0;
  }

  add(participant: BearerParticipant): void {
    if (this.participants.includes(participant)) return;
    this.participants.push(participant);
    this.targets.clear();
    this.install();
  }

  remove(participant: BearerParticipant): void {
    const index = this.participants.indexOf(participant);
    if (index >= 0) this.participants.splice(index, 1);
    this.targets.clear();
    this.ejectIfIdle();
  }

  /** Calls wait until `released` settles; then they go through the participants of that moment. */
  hold(released: Promise<void>): void {
    this.holds.add(released);
    this.install();
    void released.then(() => {
      this.holds.delete(released);
      this.ejectIfIdle();
    });
  }

  private install(): void {
    if (this.requestId !== undefined) return;
    this.requestId = this.axios.interceptors.request.use((config) => this.onRequest(config));
    this.responseId = this.axios.interceptors.response.use(
      (response) => this.onResponse(response),
      (error: unknown) => this.onResponseError(error),
    );
  }

  private ejectIfIdle(): void {
    if (!this.idle || this.requestId === undefined) return;
    this.axios.interceptors.request.eject(this.requestId);
    this.axios.interceptors.response.eject(this.responseId!);
    this.requestId = this.responseId = undefined;
    if (hooks.get(this.axios) === this) hooks.delete(this.axios);
  }

  /**
   * Not `async`: with the token cached (the usual case) the config comes back at once, and no
   * promise is made beyond axios's own chain. A token that must be fetched makes it a promise.
   */
  private onRequest(
    config: InternalAxiosRequestConfig,
  ): InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig> {
    const option = config.oauth;
    if (option === false) return config;
    // Made while an OAuthModule is still being created: the call waits for it to join.
    if (this.holds.size > 0) return Promise.all(this.holds).then(() => this.onRequest(config));
    if (this.participants.length === 0) return config;
    // A header (or `auth`) the caller set is never overwritten, and no token is fetched for it.
    if (config.headers.has('Authorization') || config.auth !== undefined) return config;
    const selection = readSelection(option);
    const target = config.socketPath ? NO_URL_TARGET : this.targets.of(config);
    const chosen = chooseClient(this.participants, target, selection);
    if (chosen === undefined) return config;

    const cached = chosen.participant.cachedToken(chosen.client, selection.scope);
    if (cached !== undefined) return this.attach(config, target.origin, chosen, selection, cached);
    // Fail closed: if no token can be had, this rejects and the request is never sent.
    return chosen.participant.getToken(chosen.client, selection.scope).then((token) =>
      // Getting the token may have discovered an issuer's token endpoint: this very URL, perhaps.
      config.socketPath || !this.targets.of(config).excluded
        ? this.attach(config, target.origin, chosen, selection, token)
        : config,
    );
  }

  private attach(
    config: InternalAxiosRequestConfig,
    origin: string | undefined,
    { participant, client }: ChosenClient,
    selection: OAuthRequestOptions,
    token: AccessToken,
  ): InternalAxiosRequestConfig {
    const attachment: Attachment = {
      participant,
      client,
      scope: selection.scope,
      accessToken: token.accessToken,
      token,
      retryOn401: selection.retryOn401,
      nonceRetried: (selection as InternalSelection).dpopNonceRetried === true,
      stripped: false,
    };
    config.headers.set('Authorization', participant.authorization(client, token));
    // The URL a proof names is only worked out when there is a proof to make (not for a bearer call).
    const signer = participant.dpopSigner(client, token);
    if (signer !== undefined) {
      config.headers.set('DPoP', signer.proof(config.method ?? 'get', fullPath(config), token.accessToken));
    }
    config.beforeRedirect = guardRedirects(this.participants, origin, attachment, config.beforeRedirect);
    this.attachments.set(config, attachment);
    return config;
  }

  /** A 401 the caller's `validateStatus` accepts is still an answer to our token. */
  private onResponse(response: AxiosResponse): AxiosResponse | Promise<AxiosResponse> {
    this.sawDpopAnswer(response);
    if (response.status !== 401) return response;
    return this.after401(response, () => response);
  }

  private onResponseError(error: unknown): Promise<AxiosResponse> {
    const response = (error as AxiosError | undefined)?.response;
    if (response !== undefined) this.sawDpopAnswer(response);
    if (response?.status !== 401) return Promise.reject(error);
    return this.after401(response, () => {
      throw error;
    });
  }

  /** An answer to a DPoP call may carry the server's next nonce. */
  private sawDpopAnswer(response: AxiosResponse): void {
    const attachment = this.attachments.get(response.config);
    if (attachment === undefined || !response.config.headers.has('DPoP')) return;
    const url = response.request?.res?.responseUrl ?? fullPath(response.config);
    attachment.participant.dpopNonce(attachment.client, url, headerOf(response, 'dpop-nonce'));
  }

  /**
   * Only a 401 to a request that still carried our token says the token was refused: drop it
   * (compare-and-invalidate) and, where the rules allow, send the call once more. Otherwise the
   * caller gets what it would have got (`unchanged`).
   */
  private async after401(response: AxiosResponse, unchanged: () => AxiosResponse): Promise<AxiosResponse> {
    const config = response.config;
    const attachment = this.attachments.get(config);
    if (attachment === undefined || attachment.stripped) return unchanged();
    if (config.headers.has('DPoP') && apiWantsNonce(401, headerOf(response, 'www-authenticate'))) {
      return this.afterNonceDemand(config, attachment, unchanged);
    }
    const retry = retriesAfter401(config.method, attachment.retryOn401, !isStream(config.data));
    try {
      await attachment.participant.rejected(attachment.client, attachment.scope, attachment.accessToken, retry);
    } catch {
      return unchanged();
    }
    if (!retry) return unchanged();
    // The retry goes through every interceptor again; ours attaches the fresh token. Pinning the
    // client and `retryOn401: false` makes it the last attempt: never a loop.
    config.headers.delete('Authorization');
    const again: AxiosRequestConfig = {
      ...config,
      oauth: { client: attachment.client, scope: attachment.scope, retryOn401: false },
    };
    return this.axios.request(again);
  }

  /**
   * RFC 9449 §9: the API wants a nonce. The request was refused before it was processed, so it is
   * sent once more (any method) with a proof carrying the nonce; the token is kept. A second
   * demand, or a body that cannot be sent again, is the caller's answer.
   */
  private afterNonceDemand(
    config: InternalAxiosRequestConfig,
    attachment: Attachment,
    unchanged: () => AxiosResponse,
  ): Promise<AxiosResponse> | AxiosResponse {
    if (attachment.nonceRetried || isStream(config.data)) return unchanged();
    attachment.participant.nonceRetried(attachment.client);
    config.headers.delete('Authorization');
    config.headers.delete('DPoP');
    const oauth: InternalSelection = {
      client: attachment.client,
      scope: attachment.scope,
      ...(attachment.retryOn401 === undefined ? {} : { retryOn401: attachment.retryOn401 }),
      dpopNonceRetried: true,
    };
    return this.axios.request({ ...config, oauth });
  }
}

/** Sets a header in a plain record, replacing it in whatever case it was written. */
function setHeader(headers: Record<string, unknown>, lowerName: string, value: string): void {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === lowerName) delete headers[name];
  headers[lowerName] = value;
}

/** A response header as one string (axios may give an array). */
function headerOf(response: AxiosResponse, name: string): string | undefined {
  const value: unknown = response.headers?.[name];
  return Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : undefined;
}

/** The `oauth` option as the hook passes it to its own resend after a nonce demand. */
type InternalSelection = OAuthRequestOptions & { readonly dpopNonceRetried?: true };

/** A request body that was a stream has been consumed: it cannot be sent again. */
function isStream(data: unknown): boolean {
  return typeof data === 'object' && data !== null && typeof (data as { pipe?: unknown }).pipe === 'function';
}

type BeforeRedirect = NonNullable<AxiosRequestConfig['beforeRedirect']>;

/**
 * Runs before each redirect hop (after the caller's own `beforeRedirect`). follow-redirects keeps
 * headers on a redirect to the same host name (another port) or to a subdomain; our token must not
 * leave the origin it was attached for, and no token endpoint may receive it, even at that origin.
 */
function guardRedirects(
  participants: readonly BearerParticipant[],
  origin: string | undefined,
  attachment: Attachment,
  previous: BeforeRedirect | undefined,
): BeforeRedirect {
  return (options, responseDetails, requestDetails) => {
    previous?.(options, responseDetails, requestDetails);
    const next = typeof options.href === 'string' ? parseRequestUrl(options.href) : undefined;
    const headers = options.headers as Record<string, unknown> | undefined;
    if (tokenMayFollow(participants, origin, next)) {
      // A DPoP proof names its request: every hop gets its own.
      const { participant, client, token } = attachment;
      const signer = participant.dpopSigner(client, token);
      if (signer !== undefined && headers !== undefined) {
        setHeader(headers, 'dpop', signer.proof(String(options.method ?? 'GET'), next!.href, token.accessToken));
      }
      return;
    }
    // follow-redirects may have dropped the header itself (another host): the hop goes without it either way.
    attachment.stripped = true;
    if (headers === undefined) return;
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'authorization' || name.toLowerCase() === 'dpop') delete headers[name];
    }
  };
}

const hooks = new WeakMap<AxiosInstance, AxiosBearerHook>();

function hookOf(axios: AxiosInstance): AxiosBearerHook {
  let hook = hooks.get(axios);
  if (hook === undefined) hooks.set(axios, (hook = new AxiosBearerHook(axios)));
  return hook;
}

/** Adds `participant` to the axios instance's hook, installing the interceptors on first use. */
export function joinAxiosInstance(axios: AxiosInstance, participant: BearerParticipant): void {
  hookOf(axios).add(participant);
}

/** Removes `participant`; the last one to leave ejects the interceptors. */
export function leaveAxiosInstance(axios: AxiosInstance, participant: BearerParticipant): void {
  hooks.get(axios)?.remove(participant);
}

/**
 * Makes the axios instance's calls wait until `released` settles (it must: see AxiosStartupHold),
 * so a call made while OAuthModule is still being created goes out with the token it should carry.
 */
export function holdAxiosInstance(axios: AxiosInstance, released: Promise<void>): void {
  hookOf(axios).hold(released);
}
