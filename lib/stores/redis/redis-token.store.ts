import type { LoggerService } from '@nestjs/common';
import { digest, fingerprint } from '../../common/fingerprint.js';
import { NOOP_LOGGER } from '../../common/noop-logger.js';
import type { OAuthErrorCode } from '../../errors/oauth-error-code.js';
import type { OAuthClock } from '../../interfaces/clock.interface.js';
import { logMessages } from '../../observability/log-messages.js';
import { LOG_CONTEXT } from '../../oauth.constants.js';
import type { SharedFailure, StoredToken, TokenStore, TokenStoreContext } from '../token-store.interface.js';
import { RedisClient, type RedisConnection } from './redis-connection.js';
import { RedisInvalidation, toGeneration } from './redis-invalidation.js';
import { clientOf, RedisKeyspace, type RedisKeys } from './redis-keys.js';
import { RedisLock } from './redis-lock.js';
import { resolveOptions, type RedisTokenStoreOptions } from './redis-options.js';
import { DELETE, DELETE_CLIENT, READ, READ_FAILURE, WRITE, WRITE_FAILURE, randomId } from './redis-scripts.js';
import { TokenCodec } from './token-codec.js';

const MAX_WARNED = 1_000;
/** A provider's error description is shared cut to this length. */
const MAX_DESCRIPTION = 300;

/**
 * Shares tokens between replicas through Redis and elects one fetcher per key across the fleet
 * (see `RedisLock`); no key names the client or holds a secret (see `RedisKeyspace`).
 *
 * Takes an ioredis `Redis` (one server or Sentinel) or `Cluster`, a node-redis client or cluster, or
 * options (see `RedisConnection`); every script's keys share one hash tag, so any topology works.
 *
 * Failure: every Redis call is bounded by `commandTimeoutMs`. When Redis is down or slow the store
 * answers "miss" and `fetchExclusive` fetches in this process; one warning per outage, and one line
 * when sharing resumes. A value that cannot be opened (wrong key, corrupt) is a miss. Invalidations
 * missed while cut off are caught up on as soon as the connection is back (see `RedisInvalidation`).
 */
export class RedisTokenStore implements TokenStore {
  private readonly client: RedisClient;
  private readonly keys: RedisKeyspace;
  private readonly codec: TokenCodec;
  private readonly lock: RedisLock;
  private readonly invalidation: RedisInvalidation;
  private logger: LoggerService = NOOP_LOGGER;
  private clock: OAuthClock = { now: () => Date.now() };
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
      (available) => {
        this.reportAvailability?.(available);
        if (available) this.invalidation.catchUp();
      },
    );
    this.lock = new RedisLock(this.client, lockTtlMs, () => this.closed);
    this.invalidation = new RedisInvalidation(this.client, this.keys);
    this.invalidation.written = (key) => this.lock.wake(this.keys.forKey(key).value);
  }

  /** Rejects with `OAuthConfigError` when options were given and `ioredis` is not installed. */
  async init(context: TokenStoreContext): Promise<void> {
    this.logger = context.logger;
    this.clock = context.clock;
    this.reportAvailability = context.availability?.bind(context);
    await this.client.ready();
    this.invalidation.listen(context.evict);
  }

  async get(key: string): Promise<StoredToken | undefined> {
    const keys = this.keys.forKey(key);
    const client = clientOf(key);
    this.invalidation.track(client);
    let reply: [string | null, string | null, unknown];
    try {
      reply = (await this.client.script(READ, [keys.value, keys.generation], [])) as typeof reply;
    } catch {
      return undefined;
    }
    const [payload, writeId, generation] = reply;
    this.invalidation.observed(client, toGeneration(generation));
    this.lock.see(key, writeId ?? '');
    return payload === null || writeId === null ? undefined : this.open(keys, payload, writeId);
  }

  async set(key: string, value: StoredToken, ttlMs: number): Promise<void> {
    if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
    const keys = this.keys.forKey(key);
    this.invalidation.track(clientOf(key));
    const fence = this.lock.fenceFor(key);
    const args = [
      fence,
      this.codec.encode(keys.value, value),
      String(value.obtainedAt),
      randomId(),
      digest(value.token.accessToken),
      String(Math.ceil(ttlMs)),
      this.keys.channel,
      this.invalidation.writtenMessage(key),
    ];
    try {
      const written = await this.client.script(WRITE, [keys.value, keys.lock, keys.index, keys.failure], args);
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
    const keys = this.keys.forKey(key);
    try {
      const reply = (await this.client.script(
        DELETE,
        [keys.value, keys.generation],
        [hash, this.keys.channel, this.invalidation.keyMessage(key, hash)],
      )) as [number, unknown];
      this.invalidation.bumped(clientOf(key), toGeneration(reply[1]));
    } catch {
      // Unavailable: the entry expires with its token.
    }
  }

  async deleteClient(client: string): Promise<void> {
    await this.dropClient(client, false);
  }

  /** Drops the client's entries everywhere (like `deleteClient`) and clears its shared `invalid_client` failures. */
  async credentialsReplaced(client: string): Promise<void> {
    await this.dropClient(client, true);
  }

  async getFailure(key: string): Promise<SharedFailure | undefined> {
    // The holder of the key's lock has read it with the lock, and no one else writes it meanwhile.
    let reply = this.lock.heldFailure(key);
    try {
      reply ??= (await this.client.script(READ_FAILURE, [this.keys.forKey(key).failure], [])) as unknown[];
    } catch {
      return undefined;
    }
    const [kind, code, status, providerCode, description, until] = reply.map((field) =>
      typeof field === 'string' || typeof field === 'number' ? String(field) : '',
    );
    if ((kind !== 'cooldown' && kind !== 'invalid_client') || !code) return undefined;
    const untilMs = Number(until);
    if (!Number.isFinite(untilMs) || untilMs <= this.clock.now()) return undefined;
    return {
      kind,
      code: code as OAuthErrorCode,
      until: untilMs,
      ...(status ? { status: Number(status) } : {}),
      ...(providerCode ? { providerCode } : {}),
      ...(description ? { description } : {}),
    };
  }

  async setFailure(key: string, failure: SharedFailure): Promise<void> {
    const ttlMs = Math.ceil(failure.until - this.clock.now());
    if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
    const keys = this.keys.forKey(key);
    try {
      await this.client.script(
        WRITE_FAILURE,
        [keys.failure, keys.failureIndex],
        [
          failure.kind,
          failure.code,
          failure.status === undefined ? '' : String(failure.status),
          failure.providerCode ?? '',
          (failure.description ?? '').slice(0, MAX_DESCRIPTION),
          String(failure.until),
          String(ttlMs),
        ],
      );
    } catch {
      // Unavailable: each replica finds the failure for itself.
    }
  }

  /**
   * Runs `fetch` if this replica wins the key's lock; otherwise waits for the holder's token.
   * Without Redis, runs `fetch` here. `fetch` is expected to `set` the token before it returns.
   */
  async fetchExclusive(key: string, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    const keys = this.keys.forKey(key);
    this.invalidation.track(clientOf(key));
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

  private async dropClient(client: string, credentialsReplaced: boolean): Promise<void> {
    const keys = this.keys.forClient(client);
    try {
      const reply = (await this.client.script(
        DELETE_CLIENT,
        [keys.index, keys.generation, keys.failureIndex],
        [this.keys.channel, this.invalidation.clientMessage(client), credentialsReplaced ? '1' : '0'],
      )) as [number, unknown];
      this.invalidation.bumped(client, toGeneration(reply[1]));
    } catch {
      // Unavailable: the entries expire with their tokens; replicas catch up on the generation later.
    }
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
