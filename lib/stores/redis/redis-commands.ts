import { createHash } from 'node:crypto';

/** A Lua script and its SHA1: run with EVALSHA, so each node parses it once, not on every call. */
export interface RedisScript {
  readonly lua: string;
  readonly sha: string;
}

export function defineScript(lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** What a subscription hands back. */
export interface SubscriptionHandlers {
  message(text: string): void;
  /**
   * Called each time the subscription is in place again (the first time too). Messages published
   * while it was not may have been lost: the store reads what it may have missed.
   */
  subscribed(): void;
}

/**
 * What the store needs of a Redis connection, whichever client library (ioredis, node-redis) and
 * topology (one server, Sentinel, Cluster) is behind it. Every script's keys share one hash tag,
 * so `run` goes to the node serving that slot.
 */
export interface RedisCommands {
  /** Why no command can go out now (`'reconnecting'`, `'closed'`), or `undefined` when they may. */
  unavailable(): string | undefined;
  /** EVALSHA; when the node does not know the script (NOSCRIPT: restarted, failed over, flushed), EVAL. */
  run(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** Listens on `channel` on a connection of the adapter's own, until `close`. */
  subscribe(channel: string, handlers: SubscriptionHandlers): void;
  /** `listener` each time the command connection is ready again after it was not. */
  onReconnect(listener: () => void): void;
  /** A command failed or timed out: a cluster client may need to learn the topology again. */
  failed?(): void;
  /** Stops listening; closes the connections the adapter made, and the client itself if the store made it. */
  close(): Promise<void>;
  /** When `close` did not finish in time: drops a client the store made at once. */
  destroy?(): void;
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** A subscriber on one node of a cluster (any node hears every PUBLISH), made by the client library's adapter. */
export interface NodeSubscriber {
  /** Resolves once subscribed; `lost` is called (once) when the connection ends after that. */
  start(channel: string, onMessage: (text: string) => void, lost: () => void): Promise<void>;
  close(): void;
}

const REPICK_DELAY_MS = 200;

/**
 * Keeps one subscription alive on a cluster: on a random node, and on another one as soon as that
 * node's connection ends (the node died, or left the cluster). Client libraries' own cluster
 * subscribers reconnect too, but do not say when: the store must know, to catch up.
 */
export class ClusterSubscription {
  private current: NodeSubscriber | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pick: () => Promise<NodeSubscriber | undefined>,
    private readonly channel: string,
    private readonly handlers: SubscriptionHandlers,
  ) {
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.current?.close();
    this.current = undefined;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let subscriber: NodeSubscriber | undefined;
    try {
      subscriber = await this.pick();
      if (subscriber === undefined) throw new Error('no node');
      this.current = subscriber;
      if (this.closed) return subscriber.close();
      let lost = false;
      await subscriber.start(this.channel, this.handlers.message, () => {
        if (lost) return;
        lost = true;
        subscriber?.close();
        this.again();
      });
      if (!lost && !this.closed) this.handlers.subscribed();
    } catch {
      subscriber?.close();
      this.again();
    }
  }

  private again(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), REPICK_DELAY_MS);
    this.timer.unref?.();
  }
}
