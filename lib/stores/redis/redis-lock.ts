import { AsyncLocalStorage } from 'node:async_hooks';
import type { StoredToken } from '../token-store.interface.js';
import { RedisUnavailable } from './redis-availability.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { ACQUIRE, POLL, RELEASE, RENEW, type ScriptReply } from './redis-scripts.js';

/** What a turn at the lock gives: the lock, a newer value (write id, payload), or no answer (also once closed). */
export type LockTurn = 'holder' | 'unavailable' | 'gave-up' | { writeId: string; payload: string | null | undefined };

/** A `get` followed by `fetchExclusive` within this window is one load (see `seen`). */
const SEEN_WINDOW_MS = 5_000;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;
const MAX_REMEMBERED = 1_000;

/**
 * The per-key fetch lock. The first replica to `SET NX PX` it (with a random fencing value) fetches
 * and writes; the others poll until the value changes. A live holder renews the lock; a crashed
 * one's lapses after `ttlMs`. Writes check the fence, so a holder whose lock lapsed cannot
 * overwrite the token of the replica that took over.
 */
export class RedisLock {
  /** The write id each key's last `get` saw ('' = no value), so a fetch can tell what is new. */
  private readonly seen = new Map<string, { writeId: string; at: number }>();
  /**
   * Which lock this async call chain holds: `set` inside a holder's fetch writes under its fence,
   * and `getFailure` reads the key's shared failure as it was when the lock was taken.
   */
  private readonly holder = new AsyncLocalStorage<{ key: string; fence: string; failure: unknown[] }>();
  /** The shared failure fields each fence's ACQUIRE found, until `hold` takes them. */
  private readonly acquired = new Map<string, unknown[]>();
  /** Waiters between two polls, by value key: woken when another replica announces a write there. */
  private readonly sleepers = new Map<string, Set<() => void>>();

  constructor(
    private readonly client: RedisClient,
    private readonly ttlMs: number,
    private readonly isClosed: () => boolean,
  ) {}

  /** Notes the write id a `get` of `key` saw ('' = no value). */
  see(key: string, writeId: string): void {
    if (this.seen.size >= MAX_REMEMBERED && !this.seen.has(key)) this.seen.clear();
    this.seen.set(key, { writeId, at: performance.now() });
  }

  /** The write id the last recent `get` of `key` saw, once. */
  takeSeen(key: string): string | undefined {
    const entry = this.seen.get(key);
    this.seen.delete(key);
    return entry !== undefined && performance.now() - entry.at <= SEEN_WINDOW_MS ? entry.writeId : undefined;
  }

  /** The fence a write of `key` goes under: this call chain's if it holds the key's lock, else none (''). */
  fenceFor(key: string): string {
    const held = this.holder.getStore();
    return held !== undefined && held.key === key ? held.fence : '';
  }

  /**
   * The shared failure fields of `key` as its lock's ACQUIRE read them, when this call chain holds
   * that lock (the failure cannot change while it does); `undefined` otherwise.
   */
  heldFailure(key: string): unknown[] | undefined {
    const held = this.holder.getStore();
    return held !== undefined && held.key === key ? held.failure : undefined;
  }

  /** When a waiter stops waiting: a live holder renews, so past this it is stuck. */
  giveUpAt(): number {
    return performance.now() + 6 * this.ttlMs;
  }

  /**
   * Takes the lock, or waits for its holder's value (`baseline`: the write id already known, if any).
   * A lock freed without a new value is tried again.
   */
  async take(keys: RedisKeys, fence: string, baseline: string | undefined, giveUpAt: number): Promise<LockTurn> {
    while (!this.isClosed()) {
      let reply: ScriptReply;
      try {
        reply = (await this.client.script(
          ACQUIRE,
          [keys.value, keys.lock, keys.failure],
          [fence, String(this.ttlMs), baseline ?? '', baseline === undefined ? '0' : '1'],
        )) as ScriptReply;
      } catch (error) {
        if (error instanceof RedisUnavailable && error.sent) this.releaseLater(keys, fence);
        return 'unavailable';
      }
      if (reply[0] === 1) {
        this.acquired.set(fence, (reply[3] as unknown[] | undefined) ?? []);
        return 'holder';
      }
      if (reply[0] === 2) return { writeId: reply[1], payload: reply[2] };
      baseline = reply[1];
      const outcome = await this.waitForHolder(keys, baseline, giveUpAt);
      if (outcome !== 'free') return outcome;
    }
    return 'unavailable';
  }

  /** Runs `fetch` as the lock's holder, renewing the lock meanwhile and releasing it after. */
  async hold(keys: RedisKeys, key: string, fence: string, fetch: () => Promise<StoredToken>): Promise<StoredToken> {
    const renew = setInterval(
      () => {
        this.client.scriptLater(RENEW, [keys.lock], [fence, String(this.ttlMs)]);
      },
      Math.max(Math.floor(this.ttlMs / 3), 10),
    );
    renew.unref?.();
    const failure = this.acquired.get(fence) ?? [];
    this.acquired.delete(fence);
    try {
      return await this.holder.run({ key, fence, failure }, fetch);
    } finally {
      clearInterval(renew);
      // Not awaited: the token is written already, and its waiters woken. On the same connection as
      // the write, the release reaches Redis after it, and before this replica's next ACQUIRE of the key.
      // Renewals and the release go out even while the store waits for its next probe: a lock left
      // behind would hold every other replica's callers of the key for up to `ttlMs`.
      this.client.scriptLater(RELEASE, [keys.lock], [fence]);
    }
  }

  /** Another replica wrote a value under `valueKey`: its waiters poll now instead of at their next turn. */
  wake(valueKey: string): void {
    const sleepers = this.sleepers.get(valueKey);
    if (sleepers === undefined) return;
    this.sleepers.delete(valueKey);
    for (const wake of sleepers) wake();
  }

  /**
   * Polls (5 ms doubling to 100 ms, or at once when a write is announced) until a new value
   * arrives, the lock is gone, or Redis fails.
   */
  private async waitForHolder(keys: RedisKeys, baseline: string, giveUpAt: number): Promise<LockTurn | 'free'> {
    let delay = FIRST_POLL_MS;
    for (;;) {
      const left = giveUpAt - performance.now();
      if (left <= 0) return 'gave-up';
      await this.sleep(keys.value, Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_POLL_MS);
      if (this.isClosed()) return 'unavailable';
      let reply: ScriptReply;
      try {
        reply = (await this.client.script(POLL, [keys.value, keys.lock], [baseline])) as ScriptReply;
      } catch {
        return 'unavailable';
      }
      if (reply[0] === 2) return { writeId: reply[1], payload: reply[2] };
      if (reply[0] === 1) return 'free';
    }
  }

  private sleep(valueKey: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let sleepers = this.sleepers.get(valueKey);
      if (sleepers === undefined) this.sleepers.set(valueKey, (sleepers = new Set()));
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        if (sleepers.size === 0 && this.sleepers.get(valueKey) === sleepers) this.sleepers.delete(valueKey);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  /**
   * A timed-out acquire may still run once Redis answers again and leave a lock nobody renews. A
   * release queued behind it on the same connection (outside the timeout and the outage gate)
   * undoes that; if the acquire never ran, it is a no-op.
   */
  private releaseLater(keys: RedisKeys, fence: string): void {
    this.client.scriptLater(RELEASE, [keys.lock], [fence]);
  }
}
