import type { LoggerService } from '@nestjs/common';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { OAuthConfigError } from '../../errors/oauth-config.error.js';
import { IoredisCommands } from './ioredis-commands.js';
import { isNodeRedis, NodeRedisCommands, type NodeRedisConnection } from './node-redis-commands.js';
import { RedisAvailability } from './redis-availability.js';
import type { RedisCommands, RedisScript, SubscriptionHandlers } from './redis-commands.js';

/**
 * What `RedisTokenStore` takes: an ioredis `Redis` (one server, or Sentinel-configured) or `Cluster`;
 * a node-redis client or cluster (`createClient()` / `createCluster()`, connected); or ioredis
 * options or a `redis://` URL, from which the store makes (and later closes) its own connection.
 */
export type RedisConnection = Redis | Cluster | NodeRedisConnection | RedisOptions | string;

/**
 * The store's connection: a given one stays open when the store closes; one it made is closed.
 * Every call is bounded by `commandTimeoutMs` and fails fast during an outage (see `RedisAvailability`).
 */
export class RedisClient {
  private commands: RedisCommands | undefined;
  private readonly made: Promise<RedisCommands>;
  private readonly availability: RedisAvailability;

  constructor(
    connection: RedisConnection,
    commandTimeoutMs: number,
    private readonly isClosed: () => boolean,
    logger: () => LoggerService,
    reportAvailability: (available: boolean) => void,
  ) {
    this.availability = new RedisAvailability(commandTimeoutMs, isClosed, logger, reportAvailability, () =>
      this.commands?.failed?.(),
    );
    if (isIoredis(connection)) this.commands = new IoredisCommands(connection, false);
    else if (isNodeRedis(connection)) this.commands = new NodeRedisCommands(connection);
    if (this.commands !== undefined) {
      this.made = Promise.resolve(this.commands);
    } else {
      this.made = IoredisCommands.create(connection as RedisOptions | string, commandTimeoutMs);
      this.made.then((commands) => (this.commands = commands)).catch(() => undefined);
    }
  }

  /** Resolves once the connection exists; made from options, it needs `ioredis` (an optional peer). */
  async ready(): Promise<void> {
    try {
      await this.made;
    } catch {
      throw new OAuthConfigError(
        'RedisTokenStore: Redis options or a URL need the "ioredis" package (npm install ioredis); ' +
          'or pass a connected node-redis client or cluster.',
        undefined,
        'redis',
      );
    }
  }

  /** Runs a script (EVALSHA), bounded and gated by the outage state. */
  script(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    return this.availability.call(
      () => this.commands?.unavailable(),
      async () => (await this.made).run(script, keys, args),
    );
  }

  /** Runs a script that checks whether Redis is back: not held back while the store waits for the next probe. */
  probe(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    return this.availability.call(
      () => this.commands?.unavailable(),
      async () => (await this.made).run(script, keys, args),
      true,
    );
  }

  /**
   * Runs a script outside the bound and the outage gate, without waiting for it, queued behind
   * whatever the connection still holds: the lock's own upkeep (renew, release), and undoing a
   * command that timed out but may still run.
   */
  scriptLater(script: RedisScript, keys: string[], args: string[]): void {
    const commands = this.commands;
    const status = commands?.unavailable();
    if (this.isClosed() || commands === undefined || status === 'end' || status === 'closed') return;
    commands.run(script, keys, args).catch(() => undefined);
  }

  subscribe(channel: string, handlers: SubscriptionHandlers): void {
    this.made.then((commands) => !this.isClosed() && commands.subscribe(channel, handlers)).catch(() => undefined);
  }

  onReconnect(listener: () => void): void {
    this.made.then((commands) => commands.onReconnect(listener)).catch(() => undefined);
  }

  async close(): Promise<void> {
    let commands: RedisCommands;
    try {
      commands = await this.made;
    } catch {
      return;
    }
    try {
      await this.availability.withTimeout(commands.close());
    } catch {
      commands.destroy?.();
    }
  }
}

function isIoredis(value: RedisConnection): value is Redis | Cluster {
  const candidate = value as Partial<Redis> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.evalsha === 'function' &&
    typeof candidate.status === 'string'
  );
}
