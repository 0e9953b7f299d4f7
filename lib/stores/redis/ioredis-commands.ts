import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ClusterSubscription, isNoScript, type NodeSubscriber } from './redis-commands.js';
import type { RedisCommands, RedisScript, SubscriptionHandlers } from './redis-commands.js';

const noop = (): void => undefined;

/**
 * An ioredis `Redis` (one server, or Sentinel-configured: it follows failovers itself) or `Cluster`.
 * The store never closes a connection it was given; one made from options it closes.
 */
export class IoredisCommands implements RedisCommands {
  private readonly detach: (() => void)[] = [];
  private subscription: { close(): void } | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly owned: boolean,
  ) {}

  /** An ioredis client from options or a URL (`ioredis` is loaded only then: it is an optional peer). */
  static async create(options: RedisOptions | string, commandTimeoutMs: number): Promise<IoredisCommands> {
    const { Redis } = await import('ioredis');
    // ioredis's own timeout only cleans up abandoned commands; the store's bound is its own.
    const defaults = { commandTimeout: 4 * commandTimeoutMs };
    const redis = typeof options === 'string' ? new Redis(options, defaults) : new Redis({ ...defaults, ...options });
    // Failures surface through the calls (and one warning per outage), not as unhandled events.
    redis.on('error', noop);
    return new IoredisCommands(redis, true);
  }

  unavailable(): string | undefined {
    const status = this.redis.status;
    return status === 'end' || status === 'close' || status === 'reconnecting' ? status : undefined;
  }

  async run(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.redis.eval(script.lua, keys.length, ...keys, ...args);
    }
  }

  subscribe(channel: string, handlers: SubscriptionHandlers): void {
    if (this.subscription !== undefined) return;
    this.subscription = this.redis.isCluster
      ? new ClusterSubscription(() => Promise.resolve(this.nodeSubscriber()), channel, handlers)
      : this.follow(this.redis as Redis, channel, handlers);
  }

  onReconnect(listener: () => void): void {
    let lost = false;
    const down = () => void (lost = true);
    const ready = () => {
      if (!lost) return;
      lost = false;
      listener();
    };
    this.redis.on('close', down);
    this.redis.on('reconnecting', down);
    this.redis.on('ready', ready);
    this.detach.push(() => {
      this.redis.off('close', down);
      this.redis.off('reconnecting', down);
      this.redis.off('ready', ready);
    });
  }

  async close(): Promise<void> {
    this.subscription?.close();
    for (const detach of this.detach.splice(0)) detach();
    if (this.owned) await this.redis.quit();
  }

  destroy(): void {
    if (this.owned) this.redis.disconnect();
  }

  /**
   * One server or Sentinel: a duplicate connection, which reconnects (to the new master after a
   * failover); each time it is ready, the store subscribes again and so knows when it is back.
   * Not ioredis's own resubscribing: it leaves its SUBSCRIBE's rejection unhandled (the connection
   * closing before the answer), which ends the process (redis/ioredis#2187, in no release yet).
   */
  private follow(redis: Redis, channel: string, handlers: SubscriptionHandlers): { close(): void } {
    const subscriber = redis.duplicate({ autoResubscribe: false });
    subscriber.on('error', noop);
    subscriber.on('message', (from: string, text: string) => from === channel && handlers.message(text));
    const resubscribed = () => subscriber.subscribe(channel).then(() => handlers.subscribed(), noop);
    subscriber.on('ready', resubscribed);
    // With lazyConnect, the first command connects; 'ready' then follows.
    subscriber.subscribe(channel).catch(noop);
    return { close: () => subscriber.disconnect() };
  }

  /** A subscriber on one random node of the cluster, which does not reconnect: another node is picked. */
  private nodeSubscriber(): NodeSubscriber | undefined {
    const nodes = (this.redis as Cluster).nodes('all');
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    if (node === undefined) return undefined;
    const subscriber = node.duplicate({ lazyConnect: true, retryStrategy: () => null, autoResubscribe: false });
    subscriber.on('error', noop);
    return {
      start: async (channel, onMessage, lost) => {
        subscriber.on('message', (from: string, text: string) => from === channel && onMessage(text));
        subscriber.once('close', lost);
        await subscriber.subscribe(channel);
      },
      close: () => subscriber.disconnect(),
    };
  }
}
