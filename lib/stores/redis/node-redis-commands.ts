import { ClusterSubscription, isNoScript, type NodeSubscriber } from './redis-commands.js';
import type { RedisCommands, RedisScript, SubscriptionHandlers } from './redis-commands.js';

/** Keys and arguments of a node-redis `eval` / `evalSha`. */
export interface NodeRedisEvalOptions {
  keys: string[];
  arguments: string[];
}

/**
 * What the store uses of a node-redis (`redis` ^5) client, `createClient()`, connected by the app.
 * Declared here rather than imported, so that `redis` stays an optional peer.
 */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly options?: { readonly socket?: object };
  evalSha(sha1: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>;
  duplicate(overrides?: { socket?: object }): NodeRedisClient;
  connect(): Promise<unknown>;
  destroy(): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** What the store uses of a node-redis cluster, `createCluster()`, connected by the app. */
export interface NodeRedisCluster {
  readonly isOpen: boolean;
  readonly masters: readonly { readonly client?: NodeRedisClient }[];
  readonly replicas: readonly { readonly client?: NodeRedisClient }[];
  evalSha(sha1: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A node-redis client or cluster, created and connected by the app. */
export type NodeRedisConnection = NodeRedisClient | NodeRedisCluster;

export function isNodeRedis(value: unknown): value is NodeRedisConnection {
  const candidate = value as Partial<NodeRedisClient> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.evalSha === 'function' &&
    typeof candidate.isOpen === 'boolean'
  );
}

const noop = (): void => undefined;
/** How often a node-redis cluster may be asked to learn its topology again after failed commands. */
const REDISCOVER_INTERVAL_MS = 1_000;

/**
 * A node-redis client or cluster the app created and connected; the store never closes it.
 *
 * node-redis's cluster learns a new topology only from a MOVED reply, which a dead master never
 * sends: after a failover its commands for that master's slots would wait forever. So when
 * commands fail, the adapter asks the cluster to read the topology again (at most once a second).
 */
export class NodeRedisCommands implements RedisCommands {
  private reconnecting = false;
  private readonly detach: (() => void)[] = [];
  private subscription: { close(): void } | undefined;
  private lastRediscover = 0;

  constructor(private readonly redis: NodeRedisConnection) {
    if (!isCluster(redis)) {
      this.listen('reconnecting', () => void (this.reconnecting = true));
      this.listen('ready', () => void (this.reconnecting = false));
    }
  }

  unavailable(): string | undefined {
    if (!this.redis.isOpen) return 'closed';
    return this.reconnecting ? 'reconnecting' : undefined;
  }

  async run(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const options = { keys: [...keys], arguments: [...args] };
    try {
      return await this.redis.evalSha(script.sha, options);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.redis.eval(script.lua, options);
    }
  }

  subscribe(channel: string, handlers: SubscriptionHandlers): void {
    if (this.subscription !== undefined) return;
    const redis = this.redis;
    this.subscription = isCluster(redis)
      ? new ClusterSubscription(() => Promise.resolve(nodeSubscriber(redis)), channel, handlers)
      : follow(redis, channel, handlers);
  }

  onReconnect(listener: () => void): void {
    if (isCluster(this.redis)) return;
    let lost = false;
    this.listen('reconnecting', () => void (lost = true));
    this.listen('ready', () => {
      if (!lost) return;
      lost = false;
      listener();
    });
  }

  failed(): void {
    const redis = this.redis;
    if (!isCluster(redis) || !redis.isOpen) return;
    const now = performance.now();
    if (now - this.lastRediscover < REDISCOVER_INTERVAL_MS) return;
    this.lastRediscover = now;
    // `_slots` is not in node-redis's documented API; without it, the cluster recovers only once
    // the old master answers again (with MOVED).
    const slots = (redis as unknown as { _slots?: { rediscover?(startWith: NodeRedisClient): Promise<void> } })._slots;
    const start = [...redis.masters, ...redis.replicas]
      .map((node) => node.client)
      .sort((a, b) => Number(b?.isReady ?? false) - Number(a?.isReady ?? false))[0];
    if (start !== undefined && typeof slots?.rediscover === 'function') slots.rediscover(start).catch(noop);
  }

  async close(): Promise<void> {
    this.subscription?.close();
    for (const detach of this.detach.splice(0)) detach();
  }

  destroy(): void {
    // The app's client: never closed by the store.
  }

  private listen(event: string, listener: () => void): void {
    this.redis.on(event, listener);
    this.detach.push(() => this.redis.off(event, listener));
  }
}

function isCluster(redis: NodeRedisConnection): redis is NodeRedisCluster {
  return Array.isArray((redis as Partial<NodeRedisCluster>).masters);
}

/**
 * One server: a duplicate connection, which reconnects and resubscribes by itself and is 'ready'
 * only once it has resubscribed.
 */
function follow(redis: NodeRedisClient, channel: string, handlers: SubscriptionHandlers): { close(): void } {
  const subscriber = redis.duplicate();
  let closed = false;
  let subscribed = false;
  subscriber.on('error', noop);
  subscriber.on('ready', () => subscribed && handlers.subscribed());
  void (async () => {
    try {
      await subscriber.connect();
      if (closed) return;
      await subscriber.subscribe(channel, (text) => handlers.message(text));
      subscribed = true;
      handlers.subscribed();
    } catch {
      // The connection failed for good (or was closed): invalidations are not heard; entries expire.
    }
  })();
  return {
    close: () => {
      closed = true;
      if (subscriber.isOpen) subscriber.destroy();
    },
  };
}

/** A subscriber on one random node of the cluster, which does not reconnect: another node is picked. */
function nodeSubscriber(cluster: NodeRedisCluster): NodeSubscriber | undefined {
  const nodes = [...cluster.masters, ...cluster.replicas].filter((node) => node.client !== undefined);
  const client = nodes[Math.floor(Math.random() * nodes.length)]?.client;
  if (client === undefined || !cluster.isOpen) return undefined;
  const subscriber = client.duplicate({ socket: { ...client.options?.socket, reconnectStrategy: false } });
  subscriber.on('error', noop);
  let closed = false;
  return {
    start: async (channel, onMessage, lost) => {
      subscriber.on('end', lost);
      subscriber.on('error', lost);
      await subscriber.connect();
      await subscriber.subscribe(channel, (text) => onMessage(text));
    },
    close: () => {
      if (closed) return;
      closed = true;
      if (subscriber.isOpen) subscriber.destroy();
    },
  };
}
