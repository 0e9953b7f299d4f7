import type { Cluster, Redis } from 'ioredis';
import type { StoreEvictEvent } from '../token-store.interface.js';
import { randomId } from './redis-scripts.js';

/**
 * Tells other replicas to drop tokens from their in-process caches, and hears them do the same.
 * Messages are published by the DELETE scripts; they arrive on a connection of this class's own.
 */
export class RedisInvalidation {
  /** Tells this store's own messages apart from other replicas'. */
  private readonly origin = randomId();
  private subscriber: Redis | Cluster | undefined;
  private evict: ((event: StoreEvictEvent) => void) | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis | Cluster,
    readonly channel: string,
  ) {}

  /** Hands other replicas' invalidations to `evict` from now on (none while it is undefined). */
  listen(evict: ((event: StoreEvictEvent) => void) | undefined): void {
    this.evict = evict;
    if (evict !== undefined && this.subscriber === undefined && !this.closed) this.subscribe();
  }

  keyMessage(key: string, accessTokenHash: string): string {
    return JSON.stringify({ o: this.origin, k: key, ...(accessTokenHash === '' ? {} : { a: accessTokenHash }) });
  }

  clientMessage(client: string): string {
    return JSON.stringify({ o: this.origin, c: client });
  }

  close(): void {
    this.closed = true;
    this.subscriber?.disconnect();
  }

  /** Subscribes in the background; ioredis reconnects and resubscribes by itself after an outage. */
  private subscribe(): void {
    // Redis's and Cluster's `duplicate` signatures differ too much to call on the union;
    // with no arguments both copy the connection.
    const source: { duplicate(): Redis | Cluster } = this.redis;
    const subscriber = source.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    subscriber.subscribe(this.channel).catch(() => undefined);
    this.subscriber = subscriber;
  }

  private onMessage(message: string): void {
    let event: { o?: unknown; c?: unknown; k?: unknown; a?: unknown };
    try {
      event = JSON.parse(message) as typeof event;
    } catch {
      return;
    }
    if (event.o === this.origin || this.evict === undefined) return;
    if (typeof event.c === 'string') this.evict({ client: event.c });
    else if (typeof event.k === 'string')
      this.evict({ key: event.k, ...(typeof event.a === 'string' ? { accessTokenHash: event.a } : {}) });
  }
}
