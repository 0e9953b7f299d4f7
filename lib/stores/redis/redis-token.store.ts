import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { digest, fingerprint } from '../../common/fingerprint.js';
import { NOOP_LOGGER } from '../../common/noop-logger.js';
import { OAuthConfigError } from '../../errors/oauth-config.error.js';
import type { StoreEvictEvent, StoredToken, TokenStore, TokenStoreContext } from '../token-store.interface.js';
import { ACQUIRE, DELETE, DELETE_CLIENT, POLL, RELEASE, RENEW, WRITE } from './redis-scripts.js';
import { RedisAvailability, RedisUnavailable } from './redis-availability.js';
import { TokenCodec, type EncryptionKey } from './token-codec.js';
import { LOG_CONTEXT } from '../../oauth.constants.js';

export interface RedisTokenStoreOptions {
  /** Prepended to every Redis key. Default `'oauth:'`. */
  prefix?: string;
  /** Seal values with AES-256-GCM: 32 bytes (Buffer, 64 hex digits or base64). Every replica needs the same key. */
  encryptionKey?: EncryptionKey;
  /** No call waits on Redis longer than this; past it the store is treated as unavailable. Default 250. */
  commandTimeoutMs?: number;
  /** Lifetime of a fetch lock. A live holder renews it; a crashed one blocks others at most this long. Default 10 000. */
  lockTtlMs?: number;
}

/** A Redis (or Cluster) connection, or what `new Redis(...)` takes. */
export type RedisConnection = Redis | Cluster | RedisOptions | string;

interface RedisKeys {
  value: string;
  lock: string;
  index: string;
}

type ScriptReply = [number, string, (string | null)?];

/** A `get` followed by `fetchExclusive` within this window is one load (see `seen`). */
const SEEN_WINDOW_MS = 5_000;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;
const MAX_REMEMBERED = 1_000;

/**
 * Shares tokens between replicas through Redis and elects one fetcher per key across the fleet.
 *
 * - Keys: `<prefix>{<client hash>}:t:<key hash>`; neither the client name nor any secret appears.
 * - Single flight: the first replica to `SET NX PX` the key's lock (with a random fencing value)
 *   fetches and writes; the others poll until the value changes, then use it. A live holder renews
 *   its lock; a crashed one's lock lapses after `lockTtlMs`. Only the fence holder (or, with no
 *   lock, a strictly newer token) may write, so a holder whose lock lapsed cannot overwrite the
 *   token of the replica that took over.
 * - Failure: every Redis call is bounded by `commandTimeoutMs`. When Redis is down or slow the store
 *   answers "miss" and `fetchExclusive` fetches in this process; one warning per outage, and one
 *   line when sharing resumes. A value that cannot be opened (wrong key, corrupt) is a miss.
 */
export class RedisTokenStore implements TokenStore {
  private readonly redis: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly codec: TokenCodec;
  private readonly commandTimeoutMs: number;
  private readonly lockTtlMs: number;
  private logger: LoggerService = NOOP_LOGGER;
  private readonly availability: RedisAvailability;
  private evict: ((event: StoreEvictEvent) => void) | undefined;
  /** Listens for other replicas' invalidations (a connection of its own, always closed by the store). */
  private subscriber: Redis | Cluster | undefined;
  private readonly channel: string;
  /** Tells this store's own invalidation messages apart from other replicas'. */
  private readonly origin = randomId();
  private closed = false;
  /** The write id each key's last `get` saw ('' = no value), so `fetchExclusive` can tell what is new. */
  private readonly seen = new Map<string, { writeId: string; at: number }>();
  private readonly unreadableWarned = new Set<string>();
  /** Which lock this async call chain holds: `set` inside a holder's fetch writes under its fence. */
  private readonly holder = new AsyncLocalStorage<{ key: string; fence: string }>();

  constructor(redisOrOptions: RedisConnection, options: RedisTokenStoreOptions = {}) {
    this.prefix = options.prefix ?? 'oauth:';
    this.channel = `${this.prefix}invalidate`;
    this.commandTimeoutMs = positive(options.commandTimeoutMs ?? 250, 'commandTimeoutMs');
    this.lockTtlMs = positive(options.lockTtlMs ?? 10_000, 'lockTtlMs');
    this.codec = new TokenCodec(options.encryptionKey);
    this.availability = new RedisAvailability(this.commandTimeoutMs, () => this.closed, () => this.logger);
    if (isClient(redisOrOptions)) {
      this.redis = redisOrOptions;
      this.ownsClient = false;
    } else {
      // ioredis's own timeout only cleans up abandoned commands; the store's bound is `call`'s.
      const defaults = { commandTimeout: 4 * this.commandTimeoutMs };
      const redis = typeof redisOrOptions === 'string' ? new Redis(redisOrOptions, defaults) : new Redis({ ...defaults, ...redisOrOptions });
      // Failures surface through the calls (and one warning per outage), not as unhandled events.
      redis.on('error', () => undefined);
      this.redis = redis;
      this.ownsClient = true;
    }
  }

  init(context: TokenStoreContext): void {
    this.logger = context.logger;
    this.evict = context.evict;
    if (this.evict !== undefined && this.subscriber === undefined && !this.closed) this.subscribe();
  }

  /** Subscribes in the background; ioredis reconnects and resubscribes by itself after an outage. */
  private subscribe(): void {
    const redis = this.redis;
    const subscriber = isCluster(redis) ? redis.duplicate() : redis.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => this.onInvalidated(message));
    subscriber.subscribe(this.channel).catch(() => undefined);
    this.subscriber = subscriber;
  }

  private onInvalidated(message: string): void {
    let event: { o?: unknown; c?: unknown; k?: unknown; a?: unknown };
    try {
      event = JSON.parse(message) as typeof event;
    } catch {
      return;
    }
    if (event.o === this.origin || this.evict === undefined) return;
    if (typeof event.c === 'string') this.evict({ client: event.c });
    else if (typeof event.k === 'string') this.evict({ key: event.k, ...(typeof event.a === 'string' ? { accessTokenHash: event.a } : {}) });
  }

  async get(key: string): Promise<StoredToken | undefined> {
    const keys = this.keysFor(key);
    let reply: [string | null, string | null];
    try {
      reply = await this.availability.call(this.redis, () => this.redis.hmget(keys.value, 'd', 'w') as Promise<[string | null, string | null]>);
    } catch {
      return undefined;
    }
    const [payload, writeId] = reply;
    this.remember(this.seen, key, { writeId: writeId ?? '', at: performance.now() });
    return payload === null || writeId === null ? undefined : this.open(keys, payload, writeId);
  }

  async set(key: string, value: StoredToken, ttlMs: number): Promise<void> {
    if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
    const keys = this.keysFor(key);
    const held = this.holder.getStore();
    const fence = held !== undefined && held.key === key ? held.fence : '';
    const args = [fence, this.codec.encode(keys.value, value), String(value.obtainedAt), randomId(), digest(value.token.accessToken), String(Math.ceil(ttlMs))];
    try {
      const written = await this.script(WRITE, [keys.value, keys.lock, keys.index], args);
      if (written !== 1) {
        this.logger.debug?.(`Redis token store kept a newer token than ${fingerprint(value.token.accessToken)} for key ${fingerprint(key)}`, LOG_CONTEXT);
      }
    } catch {
      // Unavailable: already logged once for this outage; the token stays in this process.
    }
  }

  async delete(key: string, ifAccessToken?: string): Promise<void> {
    const keys = this.keysFor(key);
    const hash = ifAccessToken === undefined ? '' : digest(ifAccessToken);
    const message = JSON.stringify({ o: this.origin, k: key, ...(hash === '' ? {} : { a: hash }) });
    try {
      await this.script(DELETE, [keys.value], [hash, this.channel, message]);
    } catch {
      // Unavailable: the entry expires with its token.
    }
  }

  async deleteClient(client: string): Promise<void> {
    try {
      const message = JSON.stringify({ o: this.origin, c: client });
      await this.script(DELETE_CLIENT, [this.clientKeys(encodeURIComponent(client)).index], [this.channel, message]);
    } catch {
      // Unavailable: the entries expire with their tokens.
    }
  }

  /**
   * Runs `fetch` if this replica wins the key's lock; otherwise waits for the holder's token.
   * Without Redis, runs `fetch` here. `fetch` is expected to `set` the token before it returns.
   */
  async fetchExclusive(key: string, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    const keys = this.keysFor(key);
    const fence = randomId();
    // What this replica last saw under the key: a different value is newer than what it asked for.
    const seen = this.takeSeen(key);
    let baseline = seen;
    const giveUpAt = performance.now() + 6 * this.lockTtlMs;

    while (!this.closed) {
      let reply: ScriptReply;
      try {
        reply = await this.script(ACQUIRE, [keys.value, keys.lock], [fence, String(this.lockTtlMs), baseline ?? '', baseline === undefined ? '0' : '1']);
      } catch (error) {
        if (error instanceof RedisUnavailable && error.sent) this.releaseLater(keys, fence);
        return fetch();
      }
      const [state, writeId, payload] = reply;
      if (state === 2) {
        const value = this.open(keys, payload ?? '', writeId);
        if (value !== undefined) return value;
        baseline = writeId;
        continue;
      }
      if (state === 1) return this.fetchAsHolder(keys, key, fence, fetch);

      baseline = writeId;
      const outcome = await this.waitForHolder(keys, baseline, giveUpAt);
      if (outcome === 'unavailable') return fetch();
      if (outcome === 'gave-up') {
        this.logger.warn(`Redis token store: the fetch lock for key ${fingerprint(key)} was held too long; fetching in this process`, LOG_CONTEXT);
        return fetch();
      }
      if (outcome !== 'free') {
        if (outcome.value !== undefined) return outcome.value;
        baseline = outcome.writeId;
      }
    }
    return fetch();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber?.disconnect();
    if (!this.ownsClient) return;
    try {
      await this.availability.withTimeout(this.redis.quit());
    } catch {
      this.redis.disconnect();
    }
  }

  private async fetchAsHolder(keys: RedisKeys, key: string, fence: string, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    const renew = setInterval(() => {
      this.script(RENEW, [keys.lock], [fence, String(this.lockTtlMs)]).catch(() => undefined);
    }, Math.max(Math.floor(this.lockTtlMs / 3), 10));
    renew.unref?.();
    try {
      return await this.holder.run({ key, fence }, fetch);
    } finally {
      clearInterval(renew);
      await this.script(RELEASE, [keys.lock], [fence]).catch(() => undefined);
    }
  }

  /**
   * A timed-out acquire may still run once Redis answers again and leave a lock nobody renews. A
   * release queued behind it on the same connection (outside the timeout and the outage gate)
   * undoes that; if the acquire never ran, it is a no-op.
   */
  private releaseLater(keys: RedisKeys, fence: string): void {
    if (this.closed || this.redis.status === 'end') return;
    (this.redis.eval(RELEASE, 1, keys.lock, fence) as Promise<unknown>).catch(() => undefined);
  }

  /** Polls (5 ms doubling to 100 ms) until a new value arrives, the lock is gone, or Redis fails. */
  private async waitForHolder(
    keys: RedisKeys,
    baseline: string,
    giveUpAt: number,
  ): Promise<'free' | 'unavailable' | 'gave-up' | { value: StoredToken | undefined; writeId: string }> {
    let delay = FIRST_POLL_MS;
    for (;;) {
      const left = giveUpAt - performance.now();
      if (left <= 0) return 'gave-up';
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, MAX_POLL_MS);
      if (this.closed) return 'unavailable';
      let reply: ScriptReply;
      try {
        reply = await this.script(POLL, [keys.value, keys.lock], [baseline]);
      } catch {
        return 'unavailable';
      }
      const [state, writeId, payload] = reply;
      if (state === 2) return { value: this.open(keys, payload ?? '', writeId), writeId };
      if (state === 1) return 'free';
    }
  }

  private open(keys: RedisKeys, payload: string, writeId: string): StoredToken | undefined {
    const decoded = this.codec.decode(keys.value, payload);
    if (decoded.ok) return decoded.value;
    if (!this.unreadableWarned.has(writeId)) {
      if (this.unreadableWarned.size >= MAX_REMEMBERED) this.unreadableWarned.clear();
      this.unreadableWarned.add(writeId);
      this.logger.warn(`Redis token store: ignoring the stored value under ${keys.value} (${decoded.reason}); treating it as a cache miss`, LOG_CONTEXT);
    }
    return undefined;
  }

  private takeSeen(key: string): string | undefined {
    const entry = this.seen.get(key);
    this.seen.delete(key);
    return entry !== undefined && performance.now() - entry.at <= SEEN_WINDOW_MS ? entry.writeId : undefined;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_REMEMBERED && !map.has(key)) map.clear();
    map.set(key, value);
  }

  private keysFor(key: string): RedisKeys {
    const separator = key.indexOf(':');
    const client = separator < 0 ? key : key.slice(0, separator);
    const base = this.clientKeys(client);
    const hashed = digest(key);
    return { value: `${base.tag}:t:${hashed}`, lock: `${base.tag}:l:${hashed}`, index: base.index };
  }

  /** `client` as it appears in store keys (URI-encoded). */
  private clientKeys(client: string): { tag: string; index: string } {
    const tag = `${this.prefix}{${digest(client).slice(0, 22)}}`;
    return { tag, index: `${tag}:i` };
  }

  private script(lua: string, keys: string[], args: string[]): Promise<ScriptReply & number> {
    return this.availability.call(this.redis, () => this.redis.eval(lua, keys.length, ...keys, ...args) as Promise<ScriptReply & number>);
  }
}

function isClient(value: RedisConnection): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as Redis).eval === 'function' && typeof (value as Redis).status === 'string';
}

function isCluster(redis: Redis | Cluster): redis is Cluster {
  return typeof (redis as Cluster).nodes === 'function';
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new OAuthConfigError(`RedisTokenStore: option "${field}" must be a positive number of milliseconds.`, undefined, field);
  }
  return value;
}

const randomId = () => randomBytes(12).toString('base64url');
