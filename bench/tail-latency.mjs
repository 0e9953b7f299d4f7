// Tail latency of several clients measured together (section 7g): a p99 ratio needs far more calls
// than a throughput ratio, because at concurrency 1 the p99 falls where the latency distribution
// is sparse (this machine's stalls of milliseconds hit ~1–2 % of calls: p98 0.8 ms, p99 1.3–2.5 ms,
// p99.5 ~5 ms), so 10,000 calls a side moved an A/A p99 ratio from 0.90 to 1.28. Here every side
// (the baseline, a copy of it for the A/A control, the library's clients) runs in the same long
// stretch, interleaved, and each ratio comes with a block-bootstrap interval.
import { closedLoop, percentile } from './harness.mjs';

/** A seeded generator (mulberry32), so that a run's interleaving can be told again. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function shuffled(items, next) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Concurrency 1: each turn calls every side once, in a fresh random order (strict alternation can
 * fall in step with periodic work such as garbage collection). Latencies are kept per side and per
 * block of `blockMs`, the unit the bootstrap resamples (stalls come in bursts, not call by call).
 * A call that throws counts in `failed` (a side's calls must not stop the others').
 */
export async function interleavedCalls(calls, durationMs, blockMs, seed = 1) {
  const next = random(seed);
  const sides = calls.map(() => []);
  const failed = calls.map(() => 0);
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const blockEnd = Math.min(end, performance.now() + blockMs);
    const block = calls.map(() => []);
    while (performance.now() < blockEnd) {
      for (const i of shuffled(calls.keys(), next)) {
        const started = performance.now();
        try {
          await calls[i]();
        } catch {
          failed[i]++;
        }
        block[i].push(performance.now() - started);
      }
    }
    block.forEach((latencies, i) => sides[i].push(latencies));
  }
  return { sides, failed };
}

/**
 * Concurrency `concurrency`: rounds of `roundMs`, one side at a time, every side once per cycle in
 * a fresh random order. A block is one round of a side.
 */
export async function interleavedRounds(calls, concurrency, durationMs, roundMs, seed = 1) {
  const next = random(seed);
  const sides = calls.map(() => []);
  const failed = calls.map(() => 0);
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    for (const i of shuffled(calls.keys(), next)) {
      const round = await closedLoop(calls[i], concurrency, roundMs);
      sides[i].push(round.latencies);
      failed[i] += round.failed;
    }
  }
  return { sides, failed };
}

/**
 * A block's latencies sorted, with a view of its slowest 5 %: a pooled p99 (the slowest 1 % of
 * many blocks) is almost always found among the blocks' tails, which a bootstrap then sorts alone.
 */
export function sortedBlock(latencies) {
  const all = Float64Array.from(latencies).sort();
  return { all, tail: all.subarray(Math.floor(all.length * 0.95)) };
}

/** The p99 over every call of some sorted blocks (the value section 7 takes: index ⌊0.99 n⌋). */
export function pooledP99(blocks) {
  const n = blocks.reduce((sum, b) => sum + b.all.length, 0);
  const fromTop = n - Math.min(n - 1, Math.floor(0.99 * n)); // the p99 is the fromTop-th slowest
  const tails = concat(blocks.map((b) => b.tail)).sort();
  const p99 = tails[tails.length - fromTop];
  // Exact unless a block has calls slower than the p99 beyond its tail: then sort them all.
  const exact = blocks.every((b) => b.tail.length === b.all.length || b.tail[0] <= p99);
  return tails.length >= fromTop && exact ? p99 : percentile(concat(blocks.map((b) => b.all)).sort(), 0.99);
}

/**
 * A side's mean latency over all its calls. At a fixed concurrency, req/s = concurrency / mean
 * latency (Little's law), so the baseline's mean over a side's is the side's req/s ratio.
 */
export function meanLatency(blocks) {
  let sum = 0;
  let n = 0;
  for (const { all } of blocks) {
    for (const latency of all) sum += latency;
    n += all.length;
  }
  return sum / n;
}

function concat(arrays) {
  const out = new Float64Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/**
 * The p99 of `side` over the p99 of `baseline` (blocks from `sortedBlock`), both over all their
 * calls, and a 90 % interval: the same ratio over `resamples` bootstrap samples of cycles (a side's
 * block and the baseline's block of the same cycle are drawn together, as they met the same load).
 */
export function p99Ratio(side, baseline, resamples = 200, seed = 7) {
  const next = random(seed);
  const cycles = Math.min(side.length, baseline.length);
  const ratios = [];
  for (let r = 0; r < resamples; r++) {
    const picks = Array.from({ length: cycles }, () => Math.floor(next() * cycles));
    ratios.push(pooledP99(picks.map((c) => side[c])) / pooledP99(picks.map((c) => baseline[c])));
  }
  ratios.sort((a, b) => a - b);
  const p99 = pooledP99(side);
  const baselineP99 = pooledP99(baseline);
  return {
    ratio: p99 / baselineP99,
    low: percentile(ratios, 0.05),
    high: percentile(ratios, 0.95),
    p99,
    baselineP99,
    calls: side.reduce((n, block) => n + block.all.length, 0),
  };
}
