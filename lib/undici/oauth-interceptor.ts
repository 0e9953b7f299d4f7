import type { Dispatcher } from 'undici';
import { chooseClient, readSelection, retriesAfter401, tokenMayFollow } from '../http/bearer-policy.js';
import type { BearerParticipant } from '../http/bearer-participant.js';
import type { OAuthRequestOption, OAuthRequestOptions } from '../http/oauth-request.options.js';
import { RequestTargets, type ChosenClient } from '../http/request-targets.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { TokenService } from '../token.service.js';

/** undici's dispatch options, plus the per-request `oauth` option (same forms as on `HttpService` calls). */
export type OAuthDispatchOptions = Dispatcher.DispatchOptions & { oauth?: OAuthRequestOption };

type Handler = Dispatcher.DispatchHandler;
type Headers = Record<string, string | string[] | undefined>;

/**
 * An undici interceptor that puts this module's tokens on outgoing calls, on the same rules as
 * `HttpService` and `OAuthFetch` (`bearer-policy`): `new Agent().compose(oauthInterceptor(tokens))`.
 * Compose undici's own `interceptors.redirect` after it (outside it), so that every redirect hop
 * passes through it; undici drops the header on a hop to another origin, and this interceptor on a
 * hop to a token endpoint. A 401 to the hop that carried the token is handled as on every transport.
 */
export function oauthInterceptor(tokens: TokenService): Dispatcher.DispatcherComposeInterceptor {
  const participants: readonly BearerParticipant[] = [tokens.participant];
  const targets = new RequestTargets(participants);
  // undici's redirect interceptor sends every hop of one call with the same handler: a later hop
  // carries the first hop's token only where the token may follow, and is never matched anew.
  const hops = new WeakMap<object, { origin: string | undefined; token: AccessToken; call: Call }>();

  return (dispatch) =>
    function oauthDispatch(options, handler) {
      const { oauth, ...rest } = options as OAuthDispatchOptions;
      const url = new URL(rest.path, rest.origin).href;
      const headers = headerRecord(rest.headers);
      const own = findHeader(headers, 'authorization');
      if (own !== undefined) {
        // Never a bearer to a token endpoint (a redirect hop may lead there); otherwise the caller's header wins.
        if (participants.some((p) => p.isTokenEndpoint(new URL(url)))) delete headers[own];
        return dispatch({ ...rest, headers }, handler);
      }
      const first = hops.get(handler);
      if (first !== undefined) {
        if (!tokenMayFollow(participants, first.origin, new URL(url))) return dispatch({ ...rest, headers }, handler);
        return sendWithToken({ ...first.call, options: { ...rest, headers } }, first.token, handler, true);
      }
      if (oauth === false) return dispatch(rest, handler);
      const selection = readSelection(oauth);
      const target = targets.ofUrl(url);
      const chosen = chooseClient(participants, target, selection);
      if (chosen === undefined) return dispatch(rest, handler);

      const call = { dispatch, options: { ...rest, headers }, chosen, selection };
      const send = (token: AccessToken) => {
        hops.set(handler, { origin: target.origin, token, call });
        return sendWithToken(call, token, handler, true);
      };
      const cached = chosen.participant.cachedToken(chosen.client, selection.scope);
      if (cached !== undefined) return send(cached);
      // Fail closed: if no token can be had, the call fails and nothing is sent.
      chosen.participant
        .getToken(chosen.client, selection.scope)
        .then(send, (error: unknown) => handler.onResponseError?.(null as never, error as Error));
      return true;
    };
}

interface Call {
  dispatch: Dispatcher.Dispatch;
  options: Dispatcher.DispatchOptions & { headers: Headers };
  chosen: ChosenClient;
  selection: OAuthRequestOptions;
}

function sendWithToken(call: Call, token: AccessToken, handler: Handler, mayRetry: boolean): boolean {
  const headers = { ...call.options.headers, authorization: `Bearer ${token.accessToken}` };
  const next = mayRetry ? new RefusalHandler(call, token, handler) : handler;
  return call.dispatch({ ...call.options, headers }, next);
}

/**
 * Watches the answer to a call that carried our token: a 401 drops that token (only if still
 * cached) and, where the rules allow a retry, is swallowed and the call sent once more with a
 * fresh token; anything else passes through untouched.
 */
class RefusalHandler implements Handler {
  private swallowing = false;

  constructor(
    private readonly call: Call,
    private readonly token: AccessToken,
    private readonly handler: Handler,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Handler['onRequestUpgrade']>>): void {
    this.handler.onRequestUpgrade?.(...args);
  }

  onResponseStart(...args: Parameters<NonNullable<Handler['onResponseStart']>>): void {
    const [, statusCode] = args;
    if (statusCode === 401) {
      const { options, chosen, selection } = this.call;
      const retry = retriesAfter401(options.method, selection.retryOn401, isReplayable(options.body));
      if (retry) {
        this.swallowing = true;
        return;
      }
      void chosen.participant
        .rejected(chosen.client, selection.scope, this.token.accessToken, false)
        .catch(() => undefined);
    }
    this.handler.onResponseStart?.(...args);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.swallowing) this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Parameters<NonNullable<Handler['onResponseEnd']>>[1],
  ): void {
    if (!this.swallowing) return this.handler.onResponseEnd?.(controller, trailers);
    const { chosen, selection } = this.call;
    // Retried once, pinned to the same client: never a loop.
    chosen.participant
      .rejected(chosen.client, selection.scope, this.token.accessToken, true)
      .then(() => chosen.participant.getToken(chosen.client, selection.scope))
      .then(
        (fresh) => sendWithToken(this.call, fresh, this.handler, false),
        (error: unknown) => this.handler.onResponseError?.(controller, error as Error),
      );
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.handler.onResponseError?.(controller, error);
  }
}

/** Dispatch options' headers as a record (undici also takes arrays of pairs and iterables). */
function headerRecord(headers: Dispatcher.DispatchOptions['headers']): Headers {
  if (headers == null) return {};
  if (Array.isArray(headers)) {
    const record: Headers = {};
    for (let i = 0; i + 1 < headers.length; i += 2) record[String(headers[i])] = headers[i + 1] as string;
    return record;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Object.fromEntries(headers as Iterable<[string, string | string[] | undefined]>);
  }
  return { ...(headers as Headers) };
}

function findHeader(headers: Headers, lowerName: string): string | undefined {
  return Object.keys(headers).find((name) => name.toLowerCase() === lowerName && headers[name] !== undefined);
}

/** A body that can be sent again as the same bytes (not a stream, not a form's parts). */
function isReplayable(body: Dispatcher.DispatchOptions['body']): boolean {
  return body == null || typeof body === 'string' || body instanceof Uint8Array;
}
