import type { StoreEvictEvent } from '../token-store.interface.js';
import type { RedisClient } from './redis-connection.js';
import { clientOf, type RedisKeyspace } from './redis-keys.js';
import { GENERATION, randomId } from './redis-scripts.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1_000;
/** Clients whose generation a replica follows; past it, the longest followed one's tokens here are dropped. */
const MAX_FOLLOWED = 10_000;

/**
 * Tells other replicas to drop tokens from their in-process caches, hears them do the same, and
 * catches up on what it missed.
 *
 * Messages are published by the DELETE scripts and are lost while a replica is cut off. So every
 * invalidation also bumps its client's generation in Redis, and each replica remembers the last
 * generation it saw per client: when it reads a different one (on any read, and on purpose each
 * time its connection or its subscription is back), it drops that client's tokens here.
 */
export class RedisInvalidation {
  /** Tells this store's own messages apart from other replicas'. */
  private readonly origin = randomId();
  /** Per client this replica holds (or held) tokens of: the last generation seen, `undefined` before the first. */
  private readonly generations = new Map<string, number | undefined>();
  private evict: ((event: StoreEvictEvent) => void) | undefined;
  /** Told of every write another replica announces (its cache key). */
  written: (key: string) => void = () => undefined;
  private listening = false;
  private closed = false;
  private catchingUp = false;
  private catchUpAgain = false;
  private retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeyspace,
  ) {}

  /** Hands other replicas' invalidations to `evict` from now on (none while it is undefined). */
  listen(evict: ((event: StoreEvictEvent) => void) | undefined): void {
    this.evict = evict;
    if (evict === undefined || this.listening || this.closed) return;
    this.listening = true;
    this.client.subscribe(this.keys.channel, {
      message: (text) => this.onMessage(text),
      subscribed: () => this.catchUp(),
    });
    this.client.onReconnect(() => this.catchUp());
  }

  keyMessage(key: string, accessTokenHash: string): string {
    return JSON.stringify({ o: this.origin, k: key, ...(accessTokenHash === '' ? {} : { a: accessTokenHash }) });
  }

  writtenMessage(key: string): string {
    return JSON.stringify({ o: this.origin, w: key });
  }

  clientMessage(client: string): string {
    return JSON.stringify({ o: this.origin, c: client });
  }

  /** A client this replica is about to hold tokens of: caught up on after an outage. */
  track(client: string): void {
    if (this.generations.has(client)) return;
    if (this.generations.size >= MAX_FOLLOWED) {
      // No longer followed, so no longer caught up on: its tokens here go (they are read again from Redis).
      const [oldest] = this.generations.keys();
      this.generations.delete(oldest!);
      this.evict?.({ client: oldest! });
    }
    this.generations.set(client, undefined);
  }

  /**
   * A generation read from Redis (0: none yet). When it moved since the last one seen (or none was
   * seen: the client's tokens here came while Redis was away), the client's tokens here go.
   * An older one is a reply that crossed a newer message: ignored.
   */
  observed(client: string, generation: number): void {
    const before = this.generations.get(client);
    if (before !== undefined && generation <= before) return;
    this.generations.set(client, generation);
    this.evict?.({ client });
  }

  /** This replica's own invalidation took the generation to `generation`: nothing missed if it was the next one. */
  bumped(client: string, generation: number): void {
    const before = this.generations.get(client);
    if (before !== undefined && generation === before + 1) this.generations.set(client, generation);
    else this.observed(client, generation);
  }

  /**
   * Reads the generation of every client this replica holds tokens of: after the connection or the
   * subscription is back, or Redis answers again after an outage. Retried until every read answered.
   */
  catchUp(): void {
    if (this.closed || this.generations.size === 0) return;
    if (this.catchingUp) {
      this.catchUpAgain = true;
      this.retry?.wake();
      return;
    }
    this.catchingUp = true;
    void this.readGenerations().finally(() => (this.catchingUp = false));
  }

  close(): void {
    this.closed = true;
    this.retry?.wake();
  }

  private async readGenerations(): Promise<void> {
    let delay = FIRST_RETRY_MS;
    while (!this.closed) {
      this.catchUpAgain = false;
      const reads = await Promise.allSettled(
        [...this.generations.keys()].map(async (client) => {
          const reply = await this.client.probe(GENERATION, [this.keys.forClient(client).generation], []);
          this.observed(client, toGeneration(reply));
        }),
      );
      const failed = reads.some((read) => read.status === 'rejected');
      if (!failed && !this.catchUpAgain) return;
      if (failed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          timer.unref?.();
          this.retry = { timer, wake: () => (clearTimeout(timer), resolve()) };
        });
        this.retry = undefined;
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  private onMessage(message: string): void {
    let event: { o?: unknown; c?: unknown; k?: unknown; a?: unknown; g?: unknown; w?: unknown };
    try {
      event = JSON.parse(message) as typeof event;
    } catch {
      return;
    }
    if (event.o === this.origin) return;
    if (typeof event.w === 'string') return this.written(event.w);
    if (this.evict === undefined) return;
    const client = typeof event.c === 'string' ? event.c : typeof event.k === 'string' ? clientOf(event.k) : undefined;
    if (client === undefined) return;
    // Replicas of an older version announce no generation.
    const generation = typeof event.g === 'string' || typeof event.g === 'number' ? Number(event.g) : NaN;
    if (Number.isFinite(generation) && this.generations.has(client)) {
      const before = this.generations.get(client);
      if (before === undefined || generation > before + 1) return this.observed(client, generation); // missed some
      if (generation > before) this.generations.set(client, generation);
    }
    if (typeof event.c === 'string') this.evict({ client });
    else if (typeof event.k === 'string')
      this.evict({ key: event.k, ...(typeof event.a === 'string' ? { accessTokenHash: event.a } : {}) });
  }
}

/** A generation as a script returns it (a string, a number, or nothing when the key is absent). */
export function toGeneration(reply: unknown): number {
  const generation = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : 0;
  return Number.isFinite(generation) ? generation : 0;
}
