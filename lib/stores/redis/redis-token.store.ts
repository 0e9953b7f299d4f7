import type { LoggerService } from '@nestjs/common';
import { digest, fingerprint } from '../../common/fingerprint.js';
import { NOOP_LOGGER } from '../../common/noop-logger.js';
import { logMessages } from '../../observability/log-messages.js';
import { LOG_CONTEXT } from '../../oauth.constants.js';
import type { StoredToken, TokenStore, TokenStoreContext } from '../token-store.interface.js';
import { RedisClient, type RedisConnection } from './redis-connection.js';
import { RedisInvalidation } from './redis-invalidation.js';
import { RedisKeyspace, type RedisKeys } from './redis-keys.js';
import { RedisLock } from './redis-lock.js';
import { resolveOptions, type RedisTokenStoreOptions } from './redis-options.js';
import { DELETE, DELETE_CLIENT, WRITE, randomId } from './redis-scripts.js';
import { TokenCodec } from './token-codec.js';

const MAX_WARNED = 1_000;

/**
 * Shares tokens between replicas through Redis and elects one fetcher per key across the fleet
 * (see `RedisLock`); no key names the client or holds a secret (see `RedisKeyspace`).
 *
 * Failure: every Redis call is bounded by `commandTimeoutMs`. When Redis is down or slow the store
 * answers "miss" and `fetchExclusive` fetches in this process; one warning per outage, and one line
 * when sharing resumes. A value that cannot be opened (wrong key, corrupt) is a miss.
 */
export class RedisTokenStore implements TokenStore {
  private readonly client: RedisClient;
  private readonly keys: RedisKeyspace;
  private readonly codec: TokenCodec;
  private readonly lock: RedisLock;
  private readonly invalidation: RedisInvalidation;
  private logger: LoggerService = NOOP_LOGGER;
  private closed = false;
  private reportAvailability: ((available: boolean) => void) | undefined;
  private readonly unreadableWarned = new Set<string>();

  constructor(redisOrOptions: RedisConnection, options: RedisTokenStoreOptions = {}) {
    const { prefix, commandTimeoutMs, lockTtlMs } = resolveOptions(options);
    this.keys = new RedisKeyspace(prefix);
    this.codec = new TokenCodec(options.encryptionKey);
    this.client = new RedisClient(
      redisOrOptions,
      commandTimeoutMs,
      () => this.closed,
      () => this.logger,
      (available) => this.reportAvailability?.(available),
    );
    this.lock = new RedisLock(this.client, lockTtlMs, () => this.closed);
    this.invalidation = new RedisInvalidation(this.client.redis, this.keys.channel);
  }

  init(context: TokenStoreContext): void {
    this.logger = context.logger;
    this.reportAvailability = context.availability?.bind(context);
    this.invalidation.listen(context.evict);
  }

  async get(key: string): Promise<StoredToken | undefined> {
    const keys = this.keys.forKey(key);
    let reply: [string | null, string | null];
    try {
      reply = await this.client.read(keys.value);
    } catch {
      return undefined;
    }
    const [payload, writeId] = reply;
    this.lock.see(key, writeId ?? '');
    return payload === null || writeId === null ? undefined : this.open(keys, payload, writeId);
  }

  async set(key: string, value: StoredToken, ttlMs: number): Promise<void> {
    if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
    const keys = this.keys.forKey(key);
    const fence = this.lock.fenceFor(key);
    const args = [
      fence,
      this.codec.encode(keys.value, value),
      String(value.obtainedAt),
      randomId(),
      digest(value.token.accessToken),
      String(Math.ceil(ttlMs)),
    ];
    try {
      const written = await this.client.script(WRITE, [keys.value, keys.lock, keys.index], args);
      if (written !== 1) {
        const kept = fingerprint(value.token.accessToken);
        this.logger.debug?.(logMessages.redisKeptNewer(kept, fingerprint(key)), LOG_CONTEXT);
      }
    } catch {
      // Unavailable: already logged once for this outage; the token stays in this process.
    }
  }

  async delete(key: string, ifAccessToken?: string): Promise<void> {
    const hash = ifAccessToken === undefined ? '' : digest(ifAccessToken);
    try {
      await this.client.script(
        DELETE,
        [this.keys.forKey(key).value],
        [hash, this.keys.channel, this.invalidation.keyMessage(key, hash)],
      );
    } catch {
      // Unavailable: the entry expires with its token.
    }
  }

  async deleteClient(client: string): Promise<void> {
    try {
      await this.client.script(
        DELETE_CLIENT,
        [this.keys.clientIndex(client)],
        [this.keys.channel, this.invalidation.clientMessage(client)],
      );
    } catch {
      // Unavailable: the entries expire with their tokens.
    }
  }

  /**
   * Runs `fetch` if this replica wins the key's lock; otherwise waits for the holder's token.
   * Without Redis, runs `fetch` here. `fetch` is expected to `set` the token before it returns.
   */
  async fetchExclusive(key: string, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    const keys = this.keys.forKey(key);
    const fence = randomId();
    // What this replica last saw under the key: a different value is newer than what it asked for.
    let baseline = this.lock.takeSeen(key);
    const giveUpAt = this.lock.giveUpAt();

    while (!this.closed) {
      const turn = await this.lock.take(keys, fence, baseline, giveUpAt);
      if (turn === 'holder') return this.lock.hold(keys, key, fence, fetch);
      if (turn === 'unavailable') return fetch();
      if (turn === 'gave-up') {
        this.logger.warn(logMessages.redisLockHeldTooLong(fingerprint(key)), LOG_CONTEXT);
        return fetch();
      }
      const value = this.open(keys, turn.payload ?? '', turn.writeId);
      if (value !== undefined) return value;
      // Unreadable: count it as seen, so the next turn can take the lock and replace it.
      baseline = turn.writeId;
    }
    return fetch();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.invalidation.close();
    await this.client.close();
  }

  private open(keys: RedisKeys, payload: string, writeId: string): StoredToken | undefined {
    const decoded = this.codec.decode(keys.value, payload);
    if (decoded.ok) return decoded.value;
    if (!this.unreadableWarned.has(writeId)) {
      if (this.unreadableWarned.size >= MAX_WARNED) this.unreadableWarned.clear();
      this.unreadableWarned.add(writeId);
      this.logger.warn(logMessages.redisBadValue(keys.value, decoded.reason), LOG_CONTEXT);
    }
    return undefined;
  }
}
