import type { Dispatcher } from 'undici';
import { retriesAfter401 } from '../http/bearer-policy.js';
import type { OAuthRequestOptions } from '../http/oauth-request.options.js';
import type { ChosenClient } from '../http/request-targets.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { isReplayable, withAuthorization } from './dispatch-options.js';
import type { HopLog } from './refusal-handlers.js';

/** A call that goes out with one of our tokens, and what its answer means for that token. */
export class CarriedCall {
  constructor(
    /** The next dispatcher down (undici's Agent, or the next interceptor). */
    readonly next: Dispatcher.Dispatch,
    /** The options as the caller gave them, `oauth` taken out. */
    readonly options: Dispatcher.DispatchOptions,
    readonly chosen: ChosenClient,
    readonly selection: OAuthRequestOptions,
    /** Origin the token was attached for: a redirect hop elsewhere goes without it. */
    readonly origin: string | undefined,
  ) {}

  send(token: AccessToken, handler: Dispatcher.DispatchHandler): boolean {
    const headers = withAuthorization(this.options.headers, `Bearer ${token.accessToken}`);
    return this.next({ ...this.options, headers }, handler);
  }

  /** After a 401 to `token`: whether the call is sent again (the 401 is then swallowed). */
  refused(token: AccessToken): boolean {
    const { options, chosen, selection } = this;
    const retry = retriesAfter401(options.method, selection.retryOn401, isReplayable(options.body));
    if (!retry) {
      void chosen.participant.rejected(chosen.client, selection.scope, token.accessToken, false).catch(() => undefined);
    }
    return retry;
  }

  /** Drops the refused token (if still cached) and sends the call once more, pinned to the same client. */
  retry(token: AccessToken, handler: Dispatcher.DispatchHandler, fail: (error: Error) => void, hops: HopLog): void {
    const { chosen, selection } = this;
    chosen.participant
      .rejected(chosen.client, selection.scope, token.accessToken, true)
      .then(() => chosen.participant.getToken(chosen.client, selection.scope))
      .then((fresh) => {
        // Not watched again (one retry only), so its redirects are remembered up front.
        hops.remember(handler, this, fresh);
        return this.send(fresh, handler);
      }, fail);
  }
}
