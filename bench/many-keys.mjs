// Section 10: many cached keys (issue 17, item 3). Spawned in a process of its own by bench/run.mjs
// (a clean heap for the memory reading):  node --expose-gc bench/many-keys.mjs <keys> <quick 0|1>
// Needs only the build: the tokens come from a TokenStore that already holds them (as another
// replica's would), so no token endpoint is called and the cache holds exactly what a fetch leaves.
//
// Prints one JSON line: memory per cached key (library, baseline, A/A control) and cached getToken
// throughput with that many keys cached (library on one hot key, on 1,000 keys in turn, and with
// one key cached; baseline and A/A control: `Promise.resolve(map.get(key))` over a Map as large).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Bench } from 'tinybench';

const { OAuthModule, TokenService } = await import(process.env.BENCH_LIB ?? '../dist/esm/index.js');

const KEYS = Number(process.argv[2] ?? 100_000);
const QUICK = process.argv[3] === '1';
const BATCH = 1000;
const ROTATION = 1000;
/** As long as the tokens of section 5 (a JWT of a usual size). */
const TOKEN_LENGTH = 174;

/** A flat string (as JSON.parse gives), distinct per `i`. */
const tokenOf = (i) => Buffer.from(`${'t'.repeat(TOKEN_LENGTH - 12)}${String(i).padStart(12, '0')}`).toString('latin1');

async function heapAfterGc() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** A store that holds a fresh token for every key asked (another replica fetched them). */
function preloadedStore() {
  let next = 0;
  return {
    get: async () => ({
      token: { accessToken: tokenOf(next++), tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000 },
      obtainedAt: Date.now(),
    }),
    set: async () => undefined,
    delete: async () => undefined,
    deleteClient: async () => undefined,
  };
}

async function boot(maxCachedTokens) {
  class ManyKeysModule {}
  Module({
    imports: [
      OAuthModule.forRoot({
        logger: false,
        store: preloadedStore(),
        maxCachedTokens,
        clients: {
          api: { strategy: 'oauth2', tokenUrl: 'http://127.0.0.1:9/oauth/token', clientId: 'c', clientSecret: 's' },
        },
      }),
    ],
  })(ManyKeysModule);
  const app = await NestFactory.createApplicationContext(ManyKeysModule, { logger: false });
  return { app, tokens: app.get(TokenService) };
}

/** Heap growth per entry of a plain Map of `{ accessToken, tokenType, expiresAt }` with tokens alike. */
async function mapPerKey(n) {
  const before = await heapAfterGc();
  const map = new Map();
  for (let i = 0; i < n; i++) {
    map.set(`scope-${i}`, { accessToken: tokenOf(1e9 + i), tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000 });
  }
  const after = await heapAfterGc();
  return { perKey: (after - before) / n, map };
}

// Memory: the library's heap growth per key, after 500 warm-up keys (JIT, one-off allocations).
const { app, tokens } = await boot(KEYS + 1000);
for (let i = 0; i < 500; i++) await tokens.getToken('api', { scope: `warm-${i}` });
const before = await heapAfterGc();
for (let i = 0; i < KEYS; i++) await tokens.getToken('api', { scope: `scope-${i}` });
const after = await heapAfterGc();
const libraryPerKey = (after - before) / KEYS;
const baseline = await mapPerKey(KEYS);
const control = await mapPerKey(KEYS); // A/A: the baseline measured again
const { map } = baseline;

// Throughput with KEYS keys cached: awaited getToken, BATCH per tinybench iteration.
const hot = { scope: 'scope-7' };
const rotation = Array.from({ length: ROTATION }, (_, i) => ({ scope: `scope-${i * Math.floor(KEYS / ROTATION)}` }));
let turn = 0;
const one = await boot(10_000);
await one.tokens.getToken('api');
const bench = new Bench({ time: QUICK ? 200 : 1500, warmupTime: QUICK ? 50 : 300 });
const tasks = [
  ['baseline: Promise.resolve(map.get(key))', () => Promise.resolve(map.get('scope-7'))],
  ['A/A control: the baseline again', () => Promise.resolve(map.get('scope-7'))],
  [
    `baseline, ${ROTATION.toLocaleString('en-US')} keys in turn`,
    () => Promise.resolve(map.get(rotation[turn++ % ROTATION].scope)),
  ],
  ['getToken, one key', () => tokens.getToken('api', hot)],
  [
    `getToken, ${ROTATION.toLocaleString('en-US')} keys in turn`,
    () => tokens.getToken('api', rotation[turn++ % ROTATION]),
  ],
  ['getToken, 1 key cached (reference)', () => one.tokens.getToken('api')],
];
for (const [name, get] of tasks) {
  bench.add(name, async () => {
    for (let i = 0; i < BATCH; i++) await get();
  });
}
await bench.run();
const throughput = tasks.map(([name], i) => [name, bench.tasks[i].result.throughput.mean * BATCH]);
await app.close();
await one.app.close();
console.log(
  JSON.stringify({
    keys: KEYS,
    tokenLength: TOKEN_LENGTH,
    memory: { library: libraryPerKey, baseline: baseline.perKey, control: control.perKey },
    throughput,
  }),
);
process.exit(0);
