import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { LibraryClock } from '../common/system-clock.js';
import { digest, fingerprint } from '../common/fingerprint.js';
import type { TokenRequestError } from '../errors/token-request.error.js';
import { LOG_CONTEXT, OAUTH_CLOCK, OAUTH_LOGGER } from '../oauth.constants.js';
import { logMessages } from '../observability/log-messages.js';
import { OAuthEvents } from '../observability/oauth-events.js';
import { TokenStore, type StoreEvictEvent, type StoredToken } from '../stores/token-store.interface.js';
import { toCacheEntry, type CacheEntry } from './cache-entry.js';
import { clientKeyPrefix, type CacheKey } from './cache-key.js';
import { RecentTokens } from './recent-tokens.js';

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
  private readonly entries = new Map<string, CacheEntry>();
  private readonly cooldowns = new Map<string, { until: number; error: TokenRequestError }>();
  private storeDown = false;

  constructor(
    @Inject(OAUTH_CLOCK) private readonly clock: LibraryClock,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
    @Inject(TokenStore) private readonly store: TokenStore | null,
    private readonly recent: RecentTokens,
    private readonly events: OAuthEvents,
  ) {}

  async open(): Promise<void> {
    await this.store?.init?.({
      logger: this.logger,
      clock: this.clock,
      evict: (event) => this.evict(event),
      availability: (available) => this.storeAvailability(available),
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
    this.entries.set(key.id, toCacheEntry(stored, key.client.policy.skewMs));
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

  /** The store's fleet-wide single flight when it has one, else `fetch` here. */
  fetchExclusive(key: CacheKey, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    return this.store?.fetchExclusive ? this.store.fetchExclusive(key.id, fetch) : fetch();
  }

  /** Drops one key's token; with `accessToken`, only while it is that very token (compare-and-invalidate). */
  async drop(key: CacheKey, accessToken?: string): Promise<void> {
    const cached = this.entries.get(key.id);
    if (accessToken === undefined || cached?.token.accessToken === accessToken) this.entries.delete(key.id);
    await this.storeCall('delete', () => this.store?.delete(key.id, accessToken));
  }

  /** Drops every token of a client, here and in the store. */
  async dropClient(client: string): Promise<void> {
    this.forgetClient(client);
    await this.storeCall('delete', () => this.store?.deleteClient(client));
  }

  /** Drops a client's tokens in this process only (after a credential rotation). */
  forgetClient(client: string): void {
    const prefix = clientKeyPrefix(client);
    for (const id of this.entries.keys()) if (id.startsWith(prefix)) this.entries.delete(id);
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
    for (const [id, entry] of this.entries) {
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

  /** Another replica invalidated: drop what this process holds (a 401's token only if still cached). */
  private evict(event: StoreEvictEvent): void {
    if (!('key' in event)) return this.forgetClient(event.client);
    const cached = this.entries.get(event.key);
    if (cached === undefined) return;
    const hash = event.accessTokenHash;
    if (hash === undefined || digest(cached.token.accessToken) === hash) this.entries.delete(event.key);
  }

  /** The store is an optimisation: its failures are logged and the local path goes on. */
  private async storeCall<T>(what: string, call: () => Promise<T> | undefined): Promise<T | undefined> {
    try {
      const result = await call();
      this.storeAvailability(true);
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

/** `expires_in: 0` means use once: hand it to the waiting callers, keep it nowhere. */
function isCacheable(stored: StoredToken): boolean {
  return stored.token.expiresAt > stored.obtainedAt;
}

/** A store's name for events: its class name (`RedisTokenStore`), or `TokenStore` for a plain object. */
function storeName(store: TokenStore): string {
  const name = (store as object).constructor?.name;
  return name === undefined || name === 'Object' ? 'TokenStore' : name;
}
