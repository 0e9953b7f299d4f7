import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, type LoggerService, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { concat, defer, filter, finalize, firstValueFrom, map, type Observable, of, shareReplay, Subject } from 'rxjs';
import { COARSE_MARGIN_MS, coarseNow } from './common/coarse-clock.js';
import { SYSTEM_CLOCK, type LibraryClock } from './common/system-clock.js';
import { fingerprint } from './common/fingerprint.js';
import { OAuthClientRegistry } from './config/client-registry.js';
import { configMessages } from './errors/messages.js';
import { OAuthConfigError } from './errors/oauth-config.error.js';
import { TokenRequestError } from './errors/token-request.error.js';
import type {
  AccessToken,
  ClientCredentials,
  InvalidateOptions,
  TokenRequestOptions,
} from './interfaces/access-token.interface.js';
import { LOG_CONTEXT, OAUTH_CLOCK, OAUTH_LOGGER } from './oauth.constants.js';
import type { StoredToken } from './stores/token-store.interface.js';
import type { CacheEntry } from './token-cache/cache-entry.js';
import { CacheKeyFactory, type CacheKey } from './token-cache/cache-key.js';
import { TokenCache, type LoadMode } from './token-cache/token-cache.js';
import { asTokenRequestError, closedError } from './token-endpoint/token-errors.js';
import { TokenFetcher } from './token-endpoint/token-fetcher.js';
import { TokenParticipant } from './http/token-participant.js';
import { isRetryable } from './token-endpoint/error-classification.js';
import type { OAuthErrorCode } from './errors/oauth-error-code.js';
import type { OAuthClientHealth } from './observability/client-health.js';
import { logMessages } from './observability/log-messages.js';
import { LookupCounters } from './observability/lookup-counters.js';
import { DpopSigners } from './dpop/dpop-signers.js';
import { OAuthEvents } from './observability/oauth-events.js';
import type { OAuthEvent } from './observability/oauth-event.js';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';
import { OAUTH_MODULE_OPTIONS } from './oauth.module-definition.js';

/** One in-flight token request, shared by every caller of its key until it settles. */
interface Flight {
  /** The request, replayed to each subscriber (`shareReplay`): `token$` subscribers join it here. */
  readonly stored$: Observable<StoredToken>;
  /** The same outcome as one promise for all `getToken` callers: one subscription, not one each. */
  readonly token: Promise<AccessToken>;
}

/**
 * Hands out access tokens: cached per key (client, credentials, scope, dialect parameters), one
 * in-flight request per key however many callers, refreshed in the background before expiry.
 */
@Injectable()
export class TokenService implements OnModuleInit, OnModuleDestroy {
  private readonly keys: CacheKeyFactory;
  private readonly inflight = new Map<string, Flight>();
  private readonly fetched$ = new Subject<{ key: string; token: AccessToken }>();
  /** Aborted when the module closes: token requests in flight stop, waiting callers reject. */
  private readonly closing = new AbortController();
  private bearer: TokenParticipant | undefined;
  /** The cache's `open()` (the store's `init`), started once. */
  private opening: Promise<void> | undefined;
  /** Per client: the code of its last failed token request, while no later request succeeded. */
  private readonly failures = new Map<string, OAuthErrorCode>();

  /** @internal Created by Nest; its dependencies are not part of the public API. */
  constructor(
    private readonly clients: OAuthClientRegistry,
    private readonly fetcher: TokenFetcher,
    private readonly cache: TokenCache,
    @Inject(OAUTH_CLOCK) private readonly clock: LibraryClock,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
    private readonly events: OAuthEvents,
    @Inject(OAUTH_MODULE_OPTIONS) private readonly options: OAuthModuleOptions,
    lookups: LookupCounters,
    private readonly dpop: DpopSigners,
  ) {
    this.keys = new CacheKeyFactory(lookups);
    // Each flight and each request in flight listens for the close: many at once is normal, not a leak.
    setMaxListeners(0, this.closing.signal);
    // A token being fetched is never evicted to make room (its callers are about to read it).
    cache.keepWhile((id) => this.inflight.has(id));
  }

  async onModuleInit(): Promise<void> {
    await this.open();
    await this.warmUp();
  }

  async onModuleDestroy(): Promise<void> {
    this.closing.abort();
    this.fetched$.complete();
    this.events.complete();
    await this.cache.close();
  }

  /**
   * What happens to the tokens, as it happens (hot, no replay): tokens fetched and failed,
   * refreshes, cooldowns, retried calls, store outages. No event carries a secret or a token.
   */
  get events$(): Observable<OAuthEvent> {
    return this.events.events$;
  }

  /**
   * @internal Each client's health for `OAuthHealthIndicator`, from what is cached and the last
   * failure: no token endpoint is called. `clients` limits it to those (unknown names throw).
   */
  health(clients?: readonly string[]): Record<string, OAuthClientHealth> {
    const names = clients ?? this.clients.names();
    const holdings = this.cache.holdings();
    const now = this.clock.now();
    const result: Record<string, OAuthClientHealth> = {};
    for (const name of names) {
      this.clients.get(name);
      const held = holdings.get(name);
      const lastError = this.failures.get(name);
      result[name] = {
        status: lastError !== undefined && held?.servable !== true ? 'down' : 'up',
        ...(held === undefined ? {} : { expiresInSeconds: Math.max(0, Math.round((held.soonestExpiry - now) / 1000)) }),
        ...(lastError === undefined ? {} : { lastError }),
      };
    }
    return result;
  }

  /** `warmUp`: a token for every (or each listed) client before the app serves; failures only warn. */
  private async warmUp(): Promise<void> {
    const { warmUp } = this.options;
    if (warmUp === undefined || warmUp === false) return;
    const names = warmUp === true ? this.clients.names() : warmUp;
    const deadline = Math.max(...names.map((name) => this.clients.get(name).policy.timeoutMs));
    const gotAll = Promise.all(
      names.map((name) =>
        this.getToken(name).catch((error: unknown) => {
          const code = error instanceof TokenRequestError ? error.code : 'error';
          this.logger.warn(logMessages.warmUpFailed(name, code), LOG_CONTEXT);
        }),
      ),
    );
    // Wall time, not the module's clock: this bounds how long the app takes to start.
    const stop = new AbortController();
    const deadlinePassed = delay(deadline, undefined, { signal: stop.signal, ref: false }).catch(() => undefined);
    await Promise.race([gotAll, deadlinePassed]);
    stop.abort();
  }

  /** A valid token for `client`, from the cache when it holds one. */
  getToken(client: string, options?: TokenRequestOptions): Promise<AccessToken> {
    let key: CacheKey;
    try {
      key = this.keys.keyFor(this.clients.get(client), options?.scope);
      this.throwIfClosed(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options?.forceRefresh !== true) {
      const cached = this.fresh(key);
      if (cached !== undefined) return Promise.resolve(cached);
    }
    return this.load(key, options?.forceRefresh === true ? 'force' : 'miss').token;
  }

  /**
   * @internal The cached token when it may be served now (starting a refresh ahead when one is
   * due), without I/O; `undefined` when `getToken` would have to wait. The bearer interceptor
   * tries this first, so a request with a valid token costs no promise of ours.
   */
  cachedToken(client: string, scope?: string | string[]): AccessToken | undefined {
    return this.fresh(this.keys.keyFor(this.clients.get(client), scope));
  }

  /**
   * @internal This module as every transport's bearer rules see it (axios, fetch, undici): its
   * clients' prefixes and token endpoints, and these tokens. One per module.
   */
  get participant(): TokenParticipant {
    return (this.bearer ??= new TokenParticipant(this.clients, this, this.logger, this.events, this.dpop));
  }

  /** Emits the current token, then each new one for the same key, until unsubscribed. */
  token$(client: string, options?: Omit<TokenRequestOptions, 'forceRefresh'>): Observable<AccessToken> {
    return defer(() => {
      const key = this.keys.keyFor(this.clients.get(client), options?.scope);
      this.throwIfClosed(key);
      const next$ = this.fetched$.pipe(
        filter((fetched) => fetched.key === key.id),
        map((fetched) => fetched.token),
      );
      const cached = this.fresh(key);
      const current$ =
        cached !== undefined ? of(cached) : this.load(key, 'miss').stored$.pipe(map((stored) => stored.token));
      return concat(current$, next$);
    });
  }

  /**
   * Drops cached tokens: every token of the client, or one scope's; with `accessToken`, only if
   * the cache still holds that very token (what a 401 handler wants).
   */
  async invalidate(client: string, options?: InvalidateOptions): Promise<void> {
    const resolved = this.clients.get(client);
    if (options?.scope === undefined && options?.accessToken === undefined) return this.cache.dropClient(client);
    await this.cache.drop(this.keys.keyFor(resolved, options.scope), options.accessToken);
  }

  /** Swaps a client's credentials at runtime; tokens obtained with the old ones are no longer served. */
  async setCredentials(client: string, credentials: ClientCredentials): Promise<void> {
    const resolved = this.clients.get(client);
    for (const field of ['clientId', 'clientSecret'] as const) {
      const value = credentials[field];
      if ((field === 'clientSecret' || value !== undefined) && (typeof value !== 'string' || value.length === 0)) {
        throw new OAuthConfigError(
          configMessages.invalidOption(client, field, 'must be a non-empty string'),
          client,
          field,
        );
      }
    }
    resolved.credentials = {
      clientId: credentials.clientId ?? resolved.credentials.clientId,
      clientSecret: credentials.clientSecret,
    };
    await this.cache.credentialsReplaced(client);
    this.failures.delete(client);
    this.logger.log(logMessages.credentialsReplaced(client), LOG_CONTEXT);
  }

  /** The cached token if it may still be served; starts a background refresh when it is due. */
  private fresh(key: CacheKey): AccessToken | undefined {
    const entry = this.cache.get(key);
    if (entry === undefined) {
      key.lookups.miss++;
      return undefined;
    }
    const now = this.lookupTime(entry);
    if (now >= entry.staleAt) {
      key.lookups.stale++;
      return undefined;
    }
    key.lookups.hit++;
    if (now >= entry.refreshAt && !this.inflight.has(key.id) && !this.closing.signal.aborted)
      this.refreshInBackground(key);
    return entry.token;
  }

  /**
   * The time to judge a cached entry by: the coarse one while the entry is far from both its
   * refresh and its staleness (most of a token's life; no clock read), else the module's clock.
   */
  private lookupTime(entry: CacheEntry): number {
    const coarse = this.clock === SYSTEM_CLOCK ? coarseNow() : undefined;
    if (coarse !== undefined && coarse + COARSE_MARGIN_MS < Math.min(entry.refreshAt, entry.staleAt)) return coarse;
    return this.clock.now();
  }

  private refreshInBackground(key: CacheKey): void {
    this.events.emit({ type: 'refresh_ahead', client: key.client.name });
    this.load(key, 'refresh').token.catch((error: unknown) => {
      const code = error instanceof TokenRequestError ? error.code : 'error';
      this.logger.warn(logMessages.backgroundRefreshFailed(key.client.name, code), LOG_CONTEXT);
    });
  }

  /** Single flight: every caller of one key shares one request until it settles. */
  private load(key: CacheKey, mode: LoadMode): Flight {
    let flight = this.inflight.get(key.id);
    if (flight === undefined) {
      const stored$ = defer(() => this.untilClosed(key, this.obtain(key, mode))).pipe(
        finalize(() => this.inflight.delete(key.id)),
        shareReplay({ bufferSize: 1, refCount: false }),
      );
      const token = firstValueFrom(stored$.pipe(map((stored) => stored.token)));
      // Made for getToken callers; when only token$ subscribers (or nobody) wait, its rejection
      // must not become an unhandled rejection, which ends the process. Callers still see it.
      token.catch(() => undefined);
      flight = { stored$, token };
      this.inflight.set(key.id, flight);
    }
    return flight;
  }

  /** A token from the store if another replica has a good one, else from the token endpoint. */
  private async obtain(key: CacheKey, mode: LoadMode): Promise<StoredToken> {
    this.throwIfClosed(key);
    const cooling = this.cache.cooldownError(key);
    if (cooling !== undefined) throw cooling;
    // A call made before the module's init (another provider's onModuleInit) opens the store itself.
    await this.open();
    const started = this.clock.now();
    let fetchedHere = false;
    try {
      const stored =
        (await this.cache.fromStore(key, mode)) ??
        (await this.cache.fetchExclusive(key, async () => {
          fetchedHere = true;
          const fetched = await this.fetcher.fetch(key.client, key.scope, this.closing.signal);
          if (this.isCurrent(key)) await this.cache.share(key, fetched);
          return fetched;
        }));
      // Removed or replaced meanwhile (OAuthClients): the token is kept nowhere.
      if (!this.isCurrent(key)) return this.superseded(key, stored);
      this.failures.delete(key.client.name);
      if (!fetchedHere) this.fromStoreEvent(key, stored, started);
      if (this.cache.remember(key, stored)) this.fetched$.next({ key: key.id, token: stored.token });
      return stored;
    } catch (error) {
      const failure = asTokenRequestError(error, key.client.name);
      // A client removed or replaced meanwhile keeps no cooldown and no health state.
      if (!this.isCurrent(key)) throw failure;
      if (error instanceof TokenRequestError) this.cache.coolDown(key, error);
      // Health: down while a cooldown lasts or retrying would not help, until a token is had again.
      if (
        failure instanceof TokenRequestError &&
        (failure.retryAfterMs !== undefined || !isRetryable(failure.code, failure.status))
      ) {
        this.failures.set(key.client.name, failure.code);
      }
      throw failure;
    }
  }

  /** A token another replica fetched and shared: a `token_fetched` event from the store. */
  private fromStoreEvent(key: CacheKey, stored: StoredToken, started: number): void {
    this.events.emit({
      type: 'token_fetched',
      client: key.client.name,
      durationMs: this.clock.now() - started,
      attempts: 0,
      expiresAt: stored.token.expiresAt,
      fingerprint: fingerprint(stored.token.accessToken),
      source: 'store',
    });
  }

  /** Opens the cache (the store's `init`) once, at init or on the first token request, whichever comes first. */
  private open(): Promise<void> {
    return (this.opening ??= this.cache.open());
  }

  /** Whether the key's client is still the one of its name (not removed or replaced at runtime). */
  private isCurrent(key: CacheKey): boolean {
    return this.clients.peek(key.client.name) === key.client;
  }

  /**
   * A token fetched for a client removed or replaced while it was in flight: its callers of a
   * replaced client get it (as after `setCredentials`); those of a removed one get an error.
   */
  private superseded(key: CacheKey, stored: StoredToken): StoredToken {
    const name = key.client.name;
    if (!this.clients.has(name)) throw new OAuthConfigError(configMessages.clientRemoved(name), name);
    return stored;
  }

  /**
   * @internal A client removed or replaced at runtime (`OAuthClients`): its tokens go, here and in
   * the shared store, with its cooldowns and its health. Requests in flight keep nothing.
   */
  async dropClient(name: string): Promise<void> {
    this.cache.forgetClient(name);
    this.cache.forgetCooldowns(name);
    this.failures.delete(name);
    await this.open();
    await this.cache.dropClient(name);
    // Its failures shared through the store (an invalid_client) go too: a replaced client starts clean.
    await this.cache.credentialsReplaced(name);
  }

  private throwIfClosed(key: CacheKey): void {
    if (this.closing.signal.aborted) throw closedError(key.client.name);
  }

  /** The load, or a rejection as soon as the module closes (a store may still be waiting on a lock). */
  private untilClosed<T>(key: CacheKey, work: Promise<T>): Promise<T> {
    const signal = this.closing.signal;
    return new Promise<T>((resolve, reject) => {
      const onClose = () => reject(closedError(key.client.name));
      if (signal.aborted) onClose();
      else signal.addEventListener('abort', onClose, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onClose));
    });
  }
}
