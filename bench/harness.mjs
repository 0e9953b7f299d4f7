// Shared pieces of the benchmarks: the upstream process, closed-loop load, percentiles, tables.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const nowMs = () => performance.timeOrigin + performance.now();

/** Forks bench/servers.mjs; resolves with its URLs, control helpers and `stop()`. */
export async function startUpstream() {
  const child = fork(fileURLToPath(new URL('./servers.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  const post = async (path, body) =>
    (await fetch(origin + path, { method: 'POST', body: JSON.stringify(body ?? {}) })).json();
  return {
    origin,
    tokenUrl: `${origin}/oauth/token`,
    apiUrl: `${origin}/api/data`,
    control: (settings) => post('/control', settings),
    reset: () => post('/reset'),
    stats: async () => (await fetch(`${origin}/stats`)).json(),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.disconnect();
      }),
  };
}

/**
 * `concurrency` workers call `call()` back to back for `durationMs`. Records each call's latency
 * (ms) and, with `keep`, what the call resolved with and when it began.
 */
export async function closedLoop(call, concurrency, durationMs, { keep = false } = {}) {
  const latencies = [];
  const records = [];
  let failed = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      let value;
      try {
        value = await call();
      } catch (error) {
        failed++;
        value = error;
      }
      const took = performance.now() - started;
      latencies.push(took);
      if (keep) records.push({ start: performance.timeOrigin + started, value });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    failed,
    rps: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    latencies,
    records,
  };
}

/**
 * Concurrency 1, two clients taking turns call by call (A B, B A, A B, …) for `durationMs`: both
 * meet the same moment-to-moment load, which a round of A then a round of B does not. Returns one
 * `closedLoop`-shaped result per side; req/s is what the side's mean latency allows one caller.
 */
export async function alternatingCalls(callA, callB, durationMs) {
  const sides = [callA, callB].map((call) => ({ call, latencies: [], failed: 0 }));
  const end = performance.now() + durationMs;
  for (let turn = 0; performance.now() < end; turn++) {
    for (const side of turn % 2 === 0 ? sides : [sides[1], sides[0]]) {
      const started = performance.now();
      try {
        await side.call();
      } catch {
        side.failed++;
      }
      side.latencies.push(performance.now() - started);
    }
  }
  return sides.map(({ latencies, failed }) => {
    const total = latencies.reduce((sum, l) => sum + l, 0);
    latencies.sort((a, b) => a - b);
    return {
      calls: latencies.length,
      failed,
      rps: latencies.length / (total / 1000),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      latencies,
      records: [],
    };
  });
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function fmt(n, digits = 2) {
  if (typeof n === 'string') return n;
  if (n === undefined || Number.isNaN(n)) return 'n/a';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(digits)} M`;
  if (Math.abs(n) >= 1e4) return `${Math.round(n).toLocaleString('en-US')}`;
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** A Markdown table (also readable on a terminal). */
export function table(headers, rows) {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join(
    '\n',
  );
}
