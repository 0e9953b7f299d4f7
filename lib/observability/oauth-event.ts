import type { OAuthErrorCode } from '../errors/oauth-error-code.js';

/** What every event has: when it happened, in epoch ms by the module's clock. */
export interface OAuthEventBase {
  readonly at: number;
}

/** A token was obtained: from the token endpoint, or from the shared store (another replica's). */
export interface TokenFetchedEvent extends OAuthEventBase {
  readonly type: 'token_fetched';
  readonly client: string;
  readonly durationMs: number;
  /** Token-endpoint attempts it took (0 when it came from the store). */
  readonly attempts: number;
  readonly expiresAt: number;
  /** The token's fingerprint (`fingerprint()`), never the token. */
  readonly fingerprint: string;
  readonly source: 'endpoint' | 'store';
}

/** A token request failed for good (after its retries). */
export interface TokenFailedEvent extends OAuthEventBase {
  readonly type: 'token_failed';
  readonly client: string;
  readonly code: OAuthErrorCode;
  readonly status?: number;
  readonly attempts: number;
  readonly durationMs: number;
}

/** A served token entered its refresh-ahead window: a new one is being fetched in the background. */
export interface RefreshAheadEvent extends OAuthEventBase {
  readonly type: 'refresh_ahead';
  readonly client: string;
}

/** A failure with a retry hint: calls for that key fail fast with `code` for `retryAfterMs`. */
export interface CooldownStartedEvent extends OAuthEventBase {
  readonly type: 'cooldown_started';
  readonly client: string;
  readonly code: OAuthErrorCode;
  readonly retryAfterMs: number;
}

/** An outgoing call was sent again: after a 401 to our token, or a DPoP nonce demand. */
export interface RequestRetriedEvent extends OAuthEventBase {
  readonly type: 'request_retried';
  readonly client: string;
  readonly reason: '401' | 'dpop_nonce';
}

/** The shared token store stopped answering (tokens are then kept in-process) or answers again. */
export interface StoreAvailabilityEvent extends OAuthEventBase {
  readonly type: 'store_unavailable' | 'store_recovered';
  /** The store's class name, e.g. `RedisTokenStore`. */
  readonly store: string;
}

/** Everything `TokenService.events$` emits. No event carries a secret or a token. */
export type OAuthEvent =
  | TokenFetchedEvent
  | TokenFailedEvent
  | RefreshAheadEvent
  | CooldownStartedEvent
  | RequestRetriedEvent
  | StoreAvailabilityEvent;

/** A cache lookup's outcome: `stale` = a cached token past `expiresAt − skew`. */
export type CacheLookupResult = 'hit' | 'miss' | 'stale';
