import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { LibraryClock } from '../common/system-clock.js';
import { digest, fingerprint } from '../common/fingerprint.js';
import { TokenRequestError } from '../errors/token-request.error.js';
import { LOG_CONTEXT, OAUTH_CLOCK, OAUTH_LOGGER } from '../oauth.constants.js';
import { logMessages } from '../observability/log-messages.js';
import { OAuthEvents } from '../observability/oauth-events.js';
import {
  TokenStore,
  type SharedFailure,
  type StoreEvictEvent,
  type StoredToken,
} from '../stores/token-store.interface.js';
import { toCacheEntry, type CacheEntry } from './cache-entry.js';
import { clientKeyPrefix, type CacheKey } from './cache-key.js';
import { RecentTokens } from './recent-tokens.js';
import { LruMap } from './lru-map.js';
import type { OAuthModuleOptions } from '../interfaces/oauth-module-options.interface.js';
import { OAUTH_MODULE_OPTIONS } from '../oauth.module-definition.js';

/** `maxCachedTokens` when the options set none. */
export const DEFAULT_MAX_CACHED_TOKENS = 10_000;

/** What the cache holds for one client, read by health checks and the time-to-expiry gauge. */
export interface ClientHoldings {
  /** The soonest `expiresAt` among its cached tokens. */
  soonestExpiry: number;
  /** Whether any of its tokens may be served now. */
  servable: boolean;
}

/** What a load is for: a cache miss, a refresh ahead of expiry, or a forced refresh (no store read). */
export type LoadMode = 'miss' | 'refresh' | 'force';

/**
 * The module's tokens: the in-process entries in front of the optional shared store, and the
 * cooldowns that turn callers away while a provider asked us to wait. Knows nothing of single
 * flight or of who is waiting: that is `TokenService`'s.
 */
@Injectable()
export class TokenCache {
  /** Bounded by `maxCachedTokens`: past it the least recently used token goes (never one being fetched). */
  private readonly entries: LruMap<CacheEntry>;
  private readonly cooldowns = new Map<string, { until: number; error: TokenRequestError }>();
  private storeDown = false;
  /** Set once the store reports its own availability: its calls' success then says nothing (it hides failures). */
  private storeReports = false;

  constructor(
    @Inject(OAUTH_CLOCK) private readonly clock: LibraryClock,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
    @Inject(TokenStore) private readonly store: TokenStore | null,
    private readonly recent: RecentTokens,
    private readonly events: OAuthEvents,
    @Inject(OAUTH_MODULE_OPTIONS) options: OAuthModuleOptions,
  ) {
    this.entries = new LruMap(options.maxCachedTokens ?? DEFAULT_MAX_CACHED_TOKENS);
  }

  /** Keys eviction must skip: those with a request in flight (`TokenService` knows them). */
  keepWhile(inFlight: (id: string) => boolean): void {
    this.inFlight = inFlight;
  }

  private inFlight: (id: string) => boolean = () => false;

  async open(): Promise<void> {
    await this.store?.init?.({
      logger: this.logger,
      clock: this.clock,
      evict: (event) => this.evict(event),
      availability: (available) => {
        this.storeReports = true;
        this.storeAvailability(available);
      },
    });
  }

  async close(): Promise<void> {
    await this.store?.close?.();
  }

  get(key: CacheKey): CacheEntry | undefined {
    return this.entries.get(key.id);
  }

  /**
   * Keeps a token for its key's callers to come; `false` when it must not be kept: a use-once
   * token (`expires_in: 0`), or one fetched before a credential rotation (it completes for its
   * callers, but is not served under the new credentials).
   */
  remember(key: CacheKey, stored: StoredToken): boolean {
    if (!isCacheable(stored) || key.credentials !== key.client.credentials) return false;
    this.entries.set(key.id, toCacheEntry(stored, key.client.policy.skewMs), this.inFlight);
    this.logger.debug?.(logMessages.cached(key.client.name, fingerprint(stored.token.accessToken)), LOG_CONTEXT);
    return true;
  }

  /** A token another replica stored, if it is good enough for this load. */
  async fromStore(key: CacheKey, mode: LoadMode): Promise<StoredToken | undefined> {
    const store = this.store;
    if (store === null || mode === 'force') return undefined;
    const stored = await this.storeCall('read', () => store.get(key.id));
    if (stored === undefined || !isCacheable(stored)) return undefined;
    const entry = toCacheEntry(stored, key.client.policy.skewMs);
    if (this.clock.now() >= (mode === 'refresh' ? entry.refreshAt : entry.staleAt)) return undefined;
    this.recent.add(stored.token.accessToken);
    return stored;
  }

  /** Shares a fresh token with the other replicas (until it expires). */
  async share(key: CacheKey, stored: StoredToken): Promise<void> {
    if (this.store === null || !isCacheable(stored)) return;
    const ttlMs = stored.token.expiresAt - this.clock.now();
    await this.storeCall('write', () => this.store!.set(key.id, stored, ttlMs));
  }

  /**
   * The store's fleet-wide single flight when it has one, else `fetch` here. Whoever gets to fetch
   * first fails fast on a failure another replica shared for the key (no token request), and
   * shares its own failure before the lock is released (see `SharedFailure`).
   */
  fetchExclusive(key: CacheKey, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    const store = this.store;
    if (store === null) return fetch();
    const guarded = async (): Promise<StoredToken> => {
      const shared = await this.sharedFailure(key);
      if (shared !== undefined) throw shared;
      try {
        return await fetch();
      } catch (error) {
        await this.shareFailure(key, error);
        throw error;
      }
    };
    return store.fetchExclusive ? store.fetchExclusive(key.id, guarded) : guarded();
  }

  /** Drops one key's token; with `accessToken`, only while it is that very token (compare-and-invalidate). */
  async drop(key: CacheKey, accessToken?: string): Promise<void> {
    const cached = this.entries.peek(key.id);
    if (accessToken === undefined || cached?.token.accessToken === accessToken) this.entries.delete(key.id);
    await this.storeCall('delete', () => this.store?.delete(key.id, accessToken));
  }

  /** Drops every token of a client, here and in the store. */
  async dropClient(client: string): Promise<void> {
    this.forgetClient(client);
    await this.storeCall('delete', () => this.store?.deleteClient(client));
  }

  /**
   * After `setCredentials`: drops the client's tokens here, and through the store on every replica,
   * with the `invalid_client` failures shared for it.
   */
  async credentialsReplaced(client: string): Promise<void> {
    this.forgetClient(client);
    const store = this.store;
    if (store?.credentialsReplaced !== undefined) {
      await this.storeCall('delete', () => store.credentialsReplaced!(client));
    }
  }

  /** Drops a client's tokens in this process only (after a credential rotation). */
  forgetClient(client: string): void {
    const prefix = clientKeyPrefix(client);
    for (const id of this.entries.keys()) if (id.startsWith(prefix)) this.entries.delete(id);
  }

  /** Forgets a removed client's cooldowns (its tokens go with `dropClient`). */
  forgetCooldowns(client: string): void {
    const prefix = clientKeyPrefix(client);
    for (const id of this.cooldowns.keys()) if (id.startsWith(prefix)) this.cooldowns.delete(id);
  }

  /** The error to repeat while a provider's retry hint lasts, or `undefined`. */
  cooldownError(key: CacheKey): TokenRequestError | undefined {
    const cooldown = this.cooldowns.get(key.id);
    if (cooldown === undefined) return undefined;
    const left = cooldown.until - this.clock.now();
    if (left > 0) return cooldown.error.repeatWithin(left);
    this.cooldowns.delete(key.id);
    return undefined;
  }

  /** Any error thrown with a retry hint starts a cooldown for its key. */
  coolDown(key: CacheKey, error: TokenRequestError): void {
    const retryAfterMs = error.retryAfterMs;
    if (retryAfterMs === undefined) return;
    this.cooldowns.set(key.id, { until: this.clock.now() + retryAfterMs, error });
    this.events.emit({ type: 'cooldown_started', client: key.client.name, code: error.code, retryAfterMs });
  }

  /** Each client's cached tokens, summed up (a walk over the entries: for probes, not for calls). */
  holdings(): Map<string, ClientHoldings> {
    const now = this.clock.now();
    const byClient = new Map<string, ClientHoldings>();
    for (const [id, entry] of this.entries.entries()) {
      const client = decodeURIComponent(id.slice(0, id.indexOf(':')));
      const held = byClient.get(client);
      const servable = now < entry.staleAt;
      byClient.set(client, {
        soonestExpiry: Math.min(held?.soonestExpiry ?? Infinity, entry.token.expiresAt),
        servable: servable || (held?.servable ?? false),
      });
    }
    return byClient;
  }

  /** The failure another replica shared for the key, as the error its callers get, while it lasts. */
  private async sharedFailure(key: CacheKey): Promise<TokenRequestError | undefined> {
    const store = this.store;
    if (store?.getFailure === undefined) return undefined;
    const failure = await this.storeCall('read', () => store.getFailure!(key.id));
    const left = failure === undefined ? 0 : failure.until - this.clock.now();
    if (failure === undefined || left <= 0) return undefined;
    const { code, status, providerCode, description } = failure;
    return new TokenRequestError({
      client: key.client.name,
      code,
      status,
      providerCode,
      description,
      retryAfterMs: failure.kind === 'cooldown' ? left : undefined,
      attempts: 0,
    });
  }

  /** A failure with a retry hint is shared for its window; an `invalid_client` for 10 s. */
  private async shareFailure(key: CacheKey, error: unknown): Promise<void> {
    const store = this.store;
    if (store?.setFailure === undefined || !(error instanceof TokenRequestError)) return;
    const { code, status, providerCode, description, retryAfterMs } = error;
    const kind = retryAfterMs !== undefined ? 'cooldown' : code === 'invalid_client' ? 'invalid_client' : undefined;
    if (kind === undefined) return;
    const until = this.clock.now() + (retryAfterMs ?? SHARED_INVALID_CLIENT_MS);
    const failure: SharedFailure = { kind, code, status, providerCode, description, until };
    await this.storeCall('write', () => store.setFailure!(key.id, failure));
  }

  /** Another replica invalidated: drop what this process holds (a 401's token only if still cached). */
  private evict(event: StoreEvictEvent): void {
    if (!('key' in event)) return this.forgetClient(event.client);
    const cached = this.entries.peek(event.key);
    if (cached === undefined) return;
    const hash = event.accessTokenHash;
    if (hash === undefined || digest(cached.token.accessToken) === hash) this.entries.delete(event.key);
  }

  /** The store is an optimisation: its failures are logged and the local path goes on. */
  private async storeCall<T>(what: string, call: () => Promise<T> | undefined): Promise<T | undefined> {
    try {
      const result = await call();
      if (!this.storeReports) this.storeAvailability(true);
      return result;
    } catch (error) {
      this.logger.warn(logMessages.storeCallFailed(what, error instanceof Error ? error.name : 'error'), LOG_CONTEXT);
      this.storeAvailability(false);
      return undefined;
    }
  }

  /** One event when the store stops answering, one when it answers again. */
  private storeAvailability(available: boolean): void {
    if (this.store === null || available !== this.storeDown) return;
    this.storeDown = !available;
    this.events.emit({ type: available ? 'store_recovered' : 'store_unavailable', store: storeName(this.store) });
  }
}

/** How long an `invalid_client` seen by one replica turns the others' calls away (until `setCredentials`). */
const SHARED_INVALID_CLIENT_MS = 10_000;

/** `expires_in: 0` means use once: hand it to the waiting callers, keep it nowhere. */
function isCacheable(stored: StoredToken): boolean {
  return stored.token.expiresAt > stored.obtainedAt;
}

/** A store's name for events: its class name (`RedisTokenStore`), or `TokenStore` for a plain object. */
function storeName(store: TokenStore): string {
  const name = (store as object).constructor?.name;
  return name === undefined || name === 'Object' ? 'TokenStore' : name;
}
