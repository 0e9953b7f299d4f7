import type { CacheLookupResult } from './oauth-event.js';

/** One client's cache lookups so far, by result. */
export type LookupCounts = Record<CacheLookupResult, number>;

/**
 * Cache lookups, counted where they happen: each cache key holds its client's counts, so the hot
 * path pays one property increment. Telemetry reads the totals when it collects (an SDK counter's
 * `add` hashes its attributes on every call: microseconds the hot path cannot afford).
 */
export class LookupCounters {
  private readonly byClient = new Map<string, LookupCounts>();

  of(client: string): LookupCounts {
    let counts = this.byClient.get(client);
    if (counts === undefined) {
      counts = { hit: 0, miss: 0, stale: 0 };
      this.byClient.set(client, counts);
    }
    return counts;
  }

  entries(): IterableIterator<[string, LookupCounts]> {
    return this.byClient.entries();
  }
}
