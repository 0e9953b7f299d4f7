import type { Dispatcher } from 'undici';
import { chooseClient, readSelection, tokenMayFollow } from '../http/bearer-policy.js';
import type { BearerParticipant } from '../http/bearer-participant.js';
import type { OAuthRequestOption } from '../http/oauth-request.options.js';
import { RequestTargets } from '../http/request-targets.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { TokenService } from '../token.service.js';
import { CarriedCall } from './carried-call.js';
import { findHeader, hasHeader, headerRecord, requestUrl } from './dispatch-options.js';
import { refusalHandler, type HopLog } from './refusal-handlers.js';

/** undici's dispatch options, plus the per-request `oauth` option (same forms as on `HttpService` calls). */
export type OAuthDispatchOptions = Dispatcher.DispatchOptions & { oauth?: OAuthRequestOption };

/** The first hop of a call that carried a token: later hops of the same call are judged by it. */
interface FirstHop {
  readonly call: CarriedCall;
  readonly token: AccessToken;
}

/**
 * The bearer rules (`bearer-policy`) on undici's dispatch: one instance behind `oauthInterceptor`
 * and `OAuthDispatcher`, which differ only in what `next` is.
 */
export class UndiciBearer implements HopLog {
  private readonly participants: readonly BearerParticipant[];
  private readonly targets: RequestTargets;
  /**
   * undici's redirect interceptor sends every hop of one call with the same handler: a later hop
   * carries the first hop's token only where the token may follow, and is never matched anew.
   * Recorded only when an answer is a redirect (or a retry is sent), so most calls leave no entry.
   */
  private readonly hops = new WeakMap<object, FirstHop>();

  constructor(tokens: TokenService) {
    this.participants = [tokens.participant];
    this.targets = new RequestTargets(this.participants);
  }

  dispatch(next: Dispatcher.Dispatch, given: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const oauth = (given as OAuthDispatchOptions).oauth;
    // Most calls have no `oauth` option: their options go down as given, not copied.
    const options = 'oauth' in given ? withoutOAuthOption(given as OAuthDispatchOptions) : given;
    const target = this.targetOf(options);

    if (hasHeader(options.headers, 'authorization')) {
      // The caller's header wins, except towards a token endpoint (a redirect hop may lead there).
      return next(target.excluded ? withoutAuthorization(options) : options, handler);
    }
    const first = this.hops.get(handler);
    if (first !== undefined) {
      if (!tokenMayFollow(this.participants, first.call.origin, new URL(requestUrl(options)))) {
        return next(options, handler);
      }
      return new CarriedCall(next, options, first.call.chosen, first.call.selection, first.call.origin).send(
        first.token,
        this.watched(first.call, first.token, handler),
      );
    }
    if (oauth === false) return next(options, handler);
    const selection = readSelection(oauth);
    const chosen = chooseClient(this.participants, target, selection);
    if (chosen === undefined) return next(options, handler);

    const call = new CarriedCall(next, options, chosen, selection, target.origin);
    const cached = chosen.participant.cachedToken(chosen.client, selection.scope);
    if (cached !== undefined) return call.send(cached, this.watched(call, cached, handler));
    // Fail closed: if no token can be had, the call fails and nothing is sent.
    chosen.participant.getToken(chosen.client, selection.scope).then(
      (token) =>
        // Getting the token may have discovered an issuer's token endpoint: this very URL, perhaps.
        this.targetOf(options).excluded ? next(options, handler) : call.send(token, this.watched(call, token, handler)),
      (error: unknown) => failed(handler, error as Error),
    );
    return true;
  }

  private targetOf(options: Dispatcher.DispatchOptions) {
    const { origin, path } = options;
    return typeof origin === 'string'
      ? this.targets.ofOriginPath(origin, path)
      : this.targets.ofUrl(requestUrl(options));
  }

  remember(handler: Dispatcher.DispatchHandler, call: CarriedCall, token: AccessToken): void {
    this.hops.set(handler, { call, token });
  }

  /** The caller's handler behind one that handles a 401 and remembers the call if it is redirected. */
  private watched(call: CarriedCall, token: AccessToken, handler: Dispatcher.DispatchHandler) {
    return refusalHandler(call, token, handler, this);
  }
}

function withoutOAuthOption(given: OAuthDispatchOptions): Dispatcher.DispatchOptions {
  const options = { ...given };
  delete options.oauth;
  return options;
}

function withoutAuthorization(options: Dispatcher.DispatchOptions): Dispatcher.DispatchOptions {
  const headers = headerRecord(options.headers);
  delete headers[findHeader(headers, 'authorization')!];
  return { ...options, headers };
}

/** Reports an error before anything was dispatched, in the API the handler speaks. */
function failed(handler: Dispatcher.DispatchHandler, error: Error): void {
  if (typeof handler.onResponseError === 'function') handler.onResponseError(null as never, error);
  else handler.onError?.(error);
}
