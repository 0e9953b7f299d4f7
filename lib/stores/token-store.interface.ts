import type { LoggerService } from '@nestjs/common';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { OAuthClock } from '../interfaces/clock.interface.js';
import type { OAuthErrorCode } from '../errors/oauth-error-code.js';

/** A token with the time it was obtained, so every replica computes the same refresh point. */
export interface StoredToken {
  token: AccessToken;
  /** Epoch ms (module clock) when the token was received. */
  obtainedAt: number;
}

/**
 * A failure of one cache key that one replica saw and shares, so that the others fail fast with
 * the same `code` instead of each sending its own token request. Never holds a secret or a token.
 */
export interface SharedFailure {
  /**
   * `'cooldown'`: the provider sent a retry hint, held for it; `'invalid_client'`: held 10 s, or
   * until `setCredentials` on any replica.
   */
  kind: 'cooldown' | 'invalid_client';
  code: OAuthErrorCode;
  status?: number;
  providerCode?: string;
  description?: string;
  /** Epoch ms (module clock) until which callers fail fast on it. */
  until: number;
}

/** What the module hands a store when the app starts. */
export interface TokenStoreContext {
  logger: LoggerService;
  clock: OAuthClock;
  /**
   * Drops this process's cached tokens after another replica invalidated them (a store that
   * broadcasts `delete` / `deleteClient` calls it): every entry of `client`, or the entry `key`;
   * with `accessTokenHash` (`digest()` of the access token: sha256, base64url) only while it holds that token.
   */
  evict?(event: StoreEvictEvent): void;
  /**
   * A store that hides its own outages (falls back instead of throwing) reports them here, once
   * when it stops answering and once when it answers again: the module's `store_unavailable` and
   * `store_recovered` events. A store that throws needs not: the module sees its failures.
   */
  availability?(available: boolean): void;
}

export type StoreEvictEvent = { client: string } | { key: string; accessTokenHash?: string };

/**
 * A token cache shared beyond this process. The module always keeps its own in-process cache in
 * front of it; the store is read on a local miss and written after every fetch.
 * Keys never contain a secret: `<client>:<sha256 of the request parameters>`.
 */
export interface TokenStore {
  init?(context: TokenStoreContext): void | Promise<void>;
  get(key: string): Promise<StoredToken | undefined>;
  /** Store until the token expires (`ttlMs` from now). */
  set(key: string, value: StoredToken, ttlMs: number): Promise<void>;
  /** Drop the entry; with `ifAccessToken`, only if it still holds that very token. */
  delete(key: string, ifAccessToken?: string): Promise<void>;
  /** Drop every entry of a client (keys starting with `<client>:`). */
  deleteClient(client: string): Promise<void>;
  /**
   * Fleet-wide single flight: run `fetch` if this process wins the key's lock, or wait for the
   * holder's result. Stores without it let each process fetch on its own.
   */
  fetchExclusive?(key: string, fetch: () => Promise<StoredToken>): Promise<StoredToken>;
  /**
   * `setCredentials` replaced the client's credentials on this replica: drop its entries, here and
   * on every replica (one cut off from the store now: once it is back), and clear its shared
   * `invalid_client` failures. Without it, only this process forgets the client's tokens.
   */
  credentialsReplaced?(client: string): Promise<void>;
  /** The failure another replica shared for `key`, while it lasts (see `SharedFailure`). */
  getFailure?(key: string): Promise<SharedFailure | undefined>;
  /** Shares a failure of `key` with the other replicas until `failure.until`. */
  setFailure?(key: string, failure: SharedFailure): Promise<void>;
  close?(): Promise<void>;
}

/** Injection token for the store, one name for type and token (as `ThrottlerStorage`). */
export const TokenStore = Symbol('OAUTH:TokenStore');
