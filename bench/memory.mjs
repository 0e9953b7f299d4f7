// One library's heap growth per cache key, in a process of its own (spawned by bench/run.mjs).
//   node --expose-gc bench/memory.mjs <subject name> <upstream origin> <keys>
import { subjects } from './subjects.mjs';

const [name, origin, keysArg] = process.argv.slice(2);
const KEYS = Number(keysArg);
const env = { origin, tokenUrl: `${origin}/oauth/token`, apiUrl: `${origin}/api/data` };
const subject = subjects.find((s) => s.name === name);

async function heapAfterGc() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Runs `work(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n, limit, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

const instance = await subject.start(env);
if (instance.getTokenFor === undefined && instance.forKey === undefined) {
  await instance.close();
  console.log(JSON.stringify({ na: 'one token per dispatcher (interceptor), no per-scope cache to fill' }));
  process.exit(0);
}
// Warm: one key, so the code paths and their one-off allocations exist before the first reading.
const keep = [];
const fill = async (i) => {
  const scope = typeof i === 'string' ? i : `scope-${i}`;
  if (instance.getTokenFor) return (await instance.getTokenFor(scope)).accessToken;
  const holder = instance.forKey(scope);
  keep.push(holder);
  const token = holder.getAccessToken ? await holder.getAccessToken() : await holder();
  return typeof token === 'string' ? token : token.access_token;
};
const sample = await fill(-1);
// Warm: 500 keys first, so JIT code, inline caches and connection pools are in place before the
// first reading; only the growth from the next KEYS keys is counted.
await pool(500, 64, (i) => fill(`warm-${i}`));
const before = await heapAfterGc();
await pool(KEYS, 64, fill);
const after = await heapAfterGc();
const perKey = (after - before) / KEYS;

// Baseline: the least a cache can hold per key, tokens of the same length.
const baseBefore = await heapAfterGc();
const map = new Map();
for (let i = 0; i < KEYS; i++) {
  // A flat string, as JSON.parse gives the libraries (not a rope over the sample).
  const accessToken = Buffer.from(`${sample.slice(0, -12)}${String(i).padStart(12, '0')}`).toString('latin1');
  map.set(`scope-${i}`, { accessToken, tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000 });
}
const baseAfter = await heapAfterGc();
const baselinePerKey = (baseAfter - baseBefore) / KEYS;
await instance.close();
console.log(
  JSON.stringify({
    perKey: Math.round(perKey),
    baselinePerKey: Math.round(baselinePerKey),
    tokenLength: sample.length,
    kept: keep.length + map.size,
    heapMiB: Math.round(after / 2 ** 20),
  }),
);
process.exit(0);
