import type { LoggerService } from '@nestjs/common';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { RedisAvailability } from './redis-availability.js';
import type { ScriptReply } from './redis-scripts.js';

/** A Redis (or Cluster) connection, or what `new Redis(...)` takes. */
export type RedisConnection = Redis | Cluster | RedisOptions | string;

/**
 * The store's connection: a given one stays open when the store closes; one it made is closed.
 * Every call is bounded by `commandTimeoutMs` and fails fast during an outage (see `RedisAvailability`).
 */
export class RedisClient {
  readonly redis: Redis | Cluster;
  private readonly owned: boolean;
  private readonly availability: RedisAvailability;

  constructor(
    connection: RedisConnection,
    commandTimeoutMs: number,
    isClosed: () => boolean,
    logger: () => LoggerService,
    reportAvailability: (available: boolean) => void,
  ) {
    this.availability = new RedisAvailability(commandTimeoutMs, isClosed, logger, reportAvailability);
    this.owned = !isClient(connection);
    this.redis = isClient(connection) ? connection : connect(connection, commandTimeoutMs);
  }

  /** A value's payload and write id. */
  read(valueKey: string): Promise<[string | null, string | null]> {
    return this.availability.call(
      this.redis,
      () => this.redis.hmget(valueKey, 'd', 'w') as Promise<[string | null, string | null]>,
    );
  }

  script(lua: string, keys: string[], args: string[]): Promise<ScriptReply & number> {
    return this.availability.call(
      this.redis,
      () => this.redis.eval(lua, keys.length, ...keys, ...args) as Promise<ScriptReply & number>,
    );
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await this.availability.withTimeout(this.redis.quit());
    } catch {
      this.redis.disconnect();
    }
  }
}

function isClient(value: RedisConnection): value is Redis | Cluster {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Redis).eval === 'function' &&
    typeof (value as Redis).status === 'string'
  );
}

function connect(options: RedisOptions | string, commandTimeoutMs: number): Redis {
  // ioredis's own timeout only cleans up abandoned commands; the store's bound is `call`'s.
  const defaults = { commandTimeout: 4 * commandTimeoutMs };
  const redis = typeof options === 'string' ? new Redis(options, defaults) : new Redis({ ...defaults, ...options });
  // Failures surface through the calls (and one warning per outage), not as unhandled events.
  redis.on('error', () => undefined);
  return redis;
}
