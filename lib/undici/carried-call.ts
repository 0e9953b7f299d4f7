import type { Dispatcher } from 'undici';
import { retriesAfter401 } from '../http/bearer-policy.js';
import type { OAuthRequestOptions } from '../http/oauth-request.options.js';
import type { ChosenClient } from '../http/request-targets.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { apiWantsNonce } from '../dpop/dpop-challenge.js';
import { isReplayable, requestUrl, withAuthorization, withHeaders } from './dispatch-options.js';
import { refusalHandler, type HopLog } from './refusal-handlers.js';

/** What an answer to a call that carried our token asks of us. */
export type Verdict = 'pass' | 'retry' | 'resend';

/** A response header by lower-case name, as one string. */
export type HeaderLookup = (lowerName: string) => string | undefined;

/** A call that goes out with one of our tokens, and what its answer means for that token. */
export class CarriedCall {
  /** Whether the last hop sent went with a DPoP proof. */
  private proved = false;
  /** A DPoP nonce demand is answered once: a second is the caller's answer. */
  private nonceResent = false;

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
    const { participant, client } = this.chosen;
    const headers = withAuthorization(this.options.headers, participant.authorization(client, token));
    // A DPoP proof names its request: every hop gets its own.
    const signer = participant.dpopSigner(client, token);
    if (signer !== undefined) {
      headers.push('dpop', signer.proof(this.options.method, requestUrl(this.options), token.accessToken));
    }
    this.proved = signer !== undefined;
    return this.next(withHeaders(this.options, headers), handler);
  }

  /**
   * Reads an answer: `retry` after a 401 refusing the token (where the rules allow a retry),
   * `resend` after a DPoP nonce demand (RFC 9449 §9; the token is kept), else `pass`. Headers are
   * only read for a DPoP call or a 401.
   */
  judge(statusCode: number, header: HeaderLookup, token: AccessToken): Verdict {
    if (this.proved) {
      this.chosen.participant.dpopNonce(this.chosen.client, requestUrl(this.options), header('dpop-nonce'));
    }
    if (statusCode !== 401) return 'pass';
    if (this.proved && apiWantsNonce(401, header('www-authenticate'))) {
      return this.nonceResent || !isReplayable(this.options.body) ? 'pass' : 'resend';
    }
    return this.refused(token) ? 'retry' : 'pass';
  }

  /** Sends the call once more with the same token and a proof carrying the nonce just received. */
  resend(token: AccessToken, handler: Dispatcher.DispatchHandler, hops: HopLog): void {
    this.nonceResent = true;
    this.chosen.participant.nonceRetried(this.chosen.client);
    hops.remember(handler, this, token);
    // Watched again: its answer's nonce is kept too, and a second demand is the caller's answer.
    this.send(token, refusalHandler(this, token, handler, hops));
  }

  /** Whether an answer needs reading at all: most calls are bearer calls answered 2xx. */
  watches(statusCode: number): boolean {
    return statusCode === 401 || this.proved;
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
