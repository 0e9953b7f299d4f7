// `npm run bench`: every benchmark, the library and its peers measured in
// the same run, each against a baseline measured in that run. Prints the tables and writes
// bench/RESULTS.md. `node --expose-gc bench/run.mjs hot getter` runs a subset;
// BENCH_QUICK=1 shortens every phase (for trying the harness, not for figures).
// `node --expose-gc bench/run.mjs redact` needs only the build (no upstream, no peers installed).
import { execFileSync, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { Bench } from 'tinybench';
import { alternatingCalls, closedLoop, fmt, median, percentile, startUpstream, table } from './harness.mjs';
import { callgrindAvailable, instructionsPerCall } from './instructions.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const wanted = new Set(process.argv.slice(2));
const runs = (name) => wanted.size === 0 || wanted.has(name);
const sections = [];
const say = (text) => {
  console.log(text);
  sections.push(text);
};

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(3) : 'n/a');

// The peers and the upstream process are loaded only for the sections that measure against them.
const networked = [
  'hot',
  'cpu',
  'getter',
  'cold',
  'refresh',
  'memory',
  'transports',
  'transports-cpu',
  'transports-instructions',
  'fetch-instructions',
  'transports-scale',
  'transports-tail',
  'telemetry',
].some(runs);
const { stubAdapter, subjects } = networked ? await import('./subjects.mjs') : {};
const { baselines, fetchSubjects, undiciSubjects } =
  runs('transports') || runs('transports-cpu') || runs('transports-scale') || runs('transports-tail')
    ? await import('./transport-subjects.mjs')
    : {};
const env = networked ? await startUpstream() : undefined;
try {
  say(`# Benchmark results\n\n${machine()}`);
  if (runs('hot')) await hotPath();
  if (runs('hot') || runs('cpu')) await hotPathCpu();
  if (runs('getter')) await cachedGetter();
  if (runs('cold')) await coldStart();
  if (runs('refresh')) await refreshUnderLoad();
  if (runs('memory')) await memory();
  if (runs('redact')) await redaction();
  if (runs('transports')) await transports();
  if (runs('transports-cpu')) await transportsCpu();
  if (runs('transports-instructions')) await transportsInstructions();
  if (runs('transports-instructions') || runs('fetch-instructions')) await fetchInstructions();
  if (runs('transports-scale')) await transportsScale();
  if (runs('transports-tail')) await transportsTail();
  if (runs('telemetry')) await telemetry();
  if (runs('dpop')) await dpop();
  if (runs('many-keys')) await manyKeys();
  // 11. A fleet of processes on a Redis Cluster (bench/redis-fleet.mjs): needs the build, redis-server and redis-cli.
  if (runs('redis-fleet')) say(await (await import('./redis-fleet.mjs')).redisFleetSection({ quick: QUICK }));
} finally {
  await env?.stop();
}
// A full run writes bench/RESULTS.md; BENCH_OUT=<file> writes any run (e.g. a subset) there instead.
const out =
  process.env.BENCH_OUT ??
  (wanted.size === 0 && !QUICK ? fileURLToPath(new URL('./RESULTS.md', import.meta.url)) : undefined);
if (out !== undefined) {
  writeFileSync(out, `${sections.join('\n\n')}\n`);
  console.log(`\nwritten to ${out}`);
}

function machine() {
  const cpu = os.cpus();
  const pkg = (p) => {
    try {
      return JSON.parse(readFileSync(new URL(p, import.meta.url), 'utf8')).version;
    } catch {
      return 'not installed';
    }
  };
  const versions = [
    `nestjs-client-credentials ${pkg('../package.json')} (this commit: ${git('rev-parse --short HEAD')})`,
    `@nestjs/core ${pkg('../node_modules/@nestjs/core/package.json')}, @nestjs/axios ${pkg('../node_modules/@nestjs/axios/package.json')}, axios ${pkg('../node_modules/axios/package.json')}`,
    `@badgateway/oauth2-client ${pkg('./node_modules/@badgateway/oauth2-client/package.json')}`,
    `axios-oauth-client ${pkg('./node_modules/axios-oauth-client/package.json')} + axios-token-interceptor ${pkg('./node_modules/axios-token-interceptor/package.json')}`,
    `undici-oidc-interceptor ${pkg('./node_modules/undici-oidc-interceptor/package.json')} (undici ${pkg('./node_modules/undici/package.json')})`,
    `openid-client ${pkg('./node_modules/openid-client/package.json')}`,
  ];
  return [
    `Run ${new Date().toISOString()} with \`npm run bench\`.`,
    '',
    `- Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores (${os.platform()} ${os.release()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- Node ${process.version}`,
    ...versions.map((v) => `- ${v}`),
    '- Upstream (token endpoint + protected API) is a separate Node process on 127.0.0.1 (bench/servers.mjs).',
    ...(process.env.BENCH_LIB ? [`- Library build measured: ${process.env.BENCH_LIB} (BENCH_LIB), not dist/esm`] : []),
    `- Load average when the run began: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} (other work shares these cores)`,
  ].join('\n');
}

function git(args) {
  try {
    return execSync(`git ${args}`, { cwd: fileURLToPath(new URL('..', import.meta.url)) })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

// 1. Hot path: authenticated GETs vs the same transport with a static header.
async function hotPath() {
  const seconds = QUICK ? 0.3 : 1;
  const pairs = QUICK ? 2 : 16;
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const rows = [];
  // The A/A control: the library's baseline against a second copy of itself, measured the same
  // way. Its ratio would be 1.000 on a quiet machine; how far it strays is this run's noise.
  const control = {
    name: 'A/A control: static header vs itself',
    transport: subjects[0].transport,
    start: subjects[0].baseline,
    baseline: subjects[0].baseline,
  };
  for (const subject of [control, ...subjects]) {
    rows.push(...(await pairedRows(subject, { pairs, windowMs: 2 * seconds * 1000, roundMs: seconds * 1000 })));
  }
  say(
    `## 1. Hot path: authenticated GETs to a loopback API\n\n` +
      `Closed loop. Concurrency 1: the library and its baseline take turns call by call (AB, BA, …) in ${pairs} windows of ${2 * seconds} s, so both meet the same moment-to-moment load; req/s = 1 / mean latency. Concurrency 32: ${pairs} pairs of ${seconds}-s rounds, the order flipped every pair (AB, BA, …). req/s are medians over windows / rounds; the ratio is the median of the per-window / per-pair ratios, and "middle half" the range of the middle half of them (25th to 75th percentile); p99 is over every call of a side, and the "paired p99 ratio" the median of the per-window / per-pair p99 ratios (as robust to one noisy round as the throughput ratio). Baseline = the same client with a static \`Authorization\` header (a real token, fetched once) and no auth library. The first row measures that baseline against itself: the noise of this run. Targets for nestjs-client-credentials: throughput ratio ≥ 0.97, p99 ratio ≤ 1.05.\n\n` +
      pairedTable(rows),
  );
}

/**
 * One subject against its baseline on the loopback API, at concurrency 1 and 32: the method of
 * section 1, shared by section 7. Returns one table row per concurrency (section 1's columns).
 */
async function pairedRows(subject, { pairs, windowMs, roundMs, label = 'hot path' }) {
  const rows = [];
  const lib = await subject.start(env);
  const base = await subject.baseline(env);
  try {
    for (const concurrency of [1, 32]) {
      // Warm both (JIT, sockets, the first token). At concurrency 1 the two sides then take
      // turns call by call, in windows of `windowMs`; at 32 (a whole process's
      // throughput) pairs of rounds, the order flipped each pair (AB BA …), so drifting load
      // hits both alike. The ratio is the median of the per-window / per-pair ratios; p99 is
      // taken over every call of a side.
      await closedLoop(lib.call, concurrency, 500);
      await closedLoop(base.call, concurrency, 500);
      const a = [];
      const b = [];
      for (let p = 0; p < pairs; p++) {
        if (concurrency === 1) {
          const [x, y] = await alternatingCalls(lib.call, base.call, windowMs);
          a.push(x);
          b.push(y);
          continue;
        }
        const order =
          p % 2 === 0
            ? [
                [lib, a],
                [base, b],
              ]
            : [
                [base, b],
                [lib, a],
              ];
        for (const [side, into] of order) into.push(await closedLoop(side.call, concurrency, roundMs));
      }
      const rps = median(a.map((x) => x.rps));
      const baseRps = median(b.map((x) => x.rps));
      const pairRatios = a.map((x, i) => x.rps / b[i].rps).sort((m, n) => m - n);
      const pairRatio = median(pairRatios);
      const spread = `${percentile(pairRatios, 0.25).toFixed(3)}–${percentile(pairRatios, 0.75).toFixed(3)}`;
      const pooled = (runs) => runs.flatMap((x) => x.latencies).sort((m, n) => m - n);
      const p99 = percentile(pooled(a), 0.99);
      const baseP99 = percentile(pooled(b), 0.99);
      // Also per window / pair, as the throughput ratio: one noisy round cannot decide it.
      const p99Of = (run) =>
        percentile(
          [...run.latencies].sort((m, n) => m - n),
          0.99,
        );
      const pairedP99 = median(a.map((x, i) => p99Of(x) / p99Of(b[i])).sort((m, n) => m - n));
      const failed = a.reduce((n, x) => n + x.failed, 0);
      rows.push([
        subject.name,
        subject.transport,
        concurrency,
        rps,
        baseRps,
        pairRatio.toFixed(3),
        spread,
        p99,
        baseP99,
        ratio(p99, baseP99),
        pairedP99.toFixed(3),
        failed,
      ]);
      console.log(
        `  ${label} ${subject.name} c=${concurrency}: ${fmt(rps)} req/s vs ${fmt(baseRps)} (ratio ${pairRatio.toFixed(3)})`,
      );
    }
  } finally {
    await lib.close();
    await base.close();
  }
  return rows;
}

/** Section 1's columns (a function: the sections run before a `const` here would be set). */
function pairedTable(rows) {
  const headers = [
    'library',
    'transport',
    'concurrency',
    'req/s',
    'baseline req/s',
    'ratio',
    'middle half',
    'p99 ms',
    'baseline p99 ms',
    'p99 ratio',
    'paired p99 ratio',
    'failed',
  ];
  return table(headers, rows);
}

// 1b. The same hot path without the network: what the interceptor costs the client per request.
async function hotPathCpu() {
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const library = subjects[0];
  const lib = await library.start(env, { adapter: stubAdapter });
  const base = await library.baseline(env, { adapter: stubAdapter });
  await lib.call();
  const bench = new Bench({ time: QUICK ? 200 : 2000, warmupTime: QUICK ? 50 : 500 });
  bench.add('static header', base.call).add('nestjs-client-credentials', lib.call);
  await bench.run();
  const bytes = [await allocatedAsync(base.call, 100), await allocatedAsync(lib.call, 100)];
  await lib.close();
  await base.close();
  const counted = callgrindAvailable() && !QUICK;
  const instructions = counted
    ? await Promise.all(['baseline', 'library'].map((side) => instructionsPerCall(side, env.origin, { stub: true })))
    : ['n/a', 'n/a'];
  const [b, l] = bench.tasks.map((t) => t.result);
  const us = (r) => r.latency.mean * 1000;
  const delta = (x, y) =>
    typeof x === 'number' && typeof y === 'number' ? `${y - x >= 0 ? '+' : ''}${fmt(y - x)}` : 'n/a';
  say(
    `### 1b. The same call without the network\n\n` +
      `HttpService with a stub axios adapter that answers at once: what the bearer interceptor adds to the client's own work per request (target lookup, cached token, header). ` +
      `Time: tinybench, ${QUICK ? 0.2 : 2} s per side (moves with the machine's load). Bytes: V8 new-space growth over 100 calls. ` +
      `Instructions: counted by valgrind's callgrind in a separate process per side, after 6,000 warm-up calls, fewest over 6 clean rounds of 1,000 (no garbage collection and no work on another thread in the round; bench/instructions.mjs); within about half a percent from run to run, whatever else the machine does` +
      (counted ? '.' : ` (${QUICK ? 'skipped with BENCH_QUICK' : 'valgrind not installed: skipped'}).`) +
      `\n\n` +
      table(
        ['client', 'calls/s', 'mean µs/call', 'bytes/call', 'instructions/call'],
        [
          [
            'HttpService + static header (baseline)',
            b.throughput.mean,
            us(b),
            Math.round(bytes[0]),
            roundOrNa(instructions[0]),
          ],
          [
            'HttpService + nestjs-client-credentials',
            l.throughput.mean,
            us(l),
            Math.round(bytes[1]),
            roundOrNa(instructions[1]),
          ],
          [
            'difference',
            '',
            delta(us(b), us(l)),
            delta(Math.round(bytes[0]), Math.round(bytes[1])),
            delta(roundOrNa(instructions[0]), roundOrNa(instructions[1])),
          ],
        ],
      ),
  );
}

function roundOrNa(n) {
  return typeof n === 'number' ? Math.round(n) : n;
}

// 2. A valid cached token: operations per second and bytes allocated per call.
async function cachedGetter() {
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const BATCH = 1000;
  const instances = [];
  const rows = [];
  const token = { accessToken: 'x'.repeat(200), tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000 };
  const map = new Map([['api', token]]);
  const floor = () => Promise.resolve(map.get('api'));
  const bench = new Bench({ time: QUICK ? 200 : 1500, warmupTime: QUICK ? 50 : 300 });
  const tasks = [['baseline: Promise.resolve(map.get(key))', floor]];
  for (const subject of subjects) {
    if (subject.noGetter) continue;
    const instance = await subject.start(env);
    instances.push(instance);
    await instance.getToken();
    tasks.push([subject.name, instance.getToken]);
  }
  for (const [name, get] of tasks) {
    bench.add(name, async () => {
      for (let i = 0; i < BATCH; i++) await get();
    });
  }
  await bench.run();
  const baseOps = bench.tasks[0].result.throughput.mean * BATCH;
  for (const [i, [name, get]] of tasks.entries()) {
    const ops = bench.tasks[i].result.throughput.mean * BATCH;
    const bytes = await allocatedAsync(get);
    rows.push([name, ops, baseOps, ratio(ops, baseOps), bytes.toFixed(0)]);
  }
  const notes = [];
  for (const subject of subjects.filter((s) => s.noGetter)) {
    rows.push([subject.name, 'n/a', baseOps, 'n/a', 'n/a']);
    notes.push(`- ${subject.name}: n/a, ${subject.noGetter}.`);
  }
  for (const instance of instances) await instance.close();
  say(
    `## 2. Getting a valid cached token\n\n` +
      `tinybench, \`await getToken()\` ${BATCH}× per iteration, one process on one core. Bytes per call: V8 new-space growth over 10,000 awaited calls (no scavenge in between). Target for nestjs-client-credentials: ≥ 5 M ops/s.\n\n` +
      table(['library', 'ops/s', 'baseline ops/s', 'ratio', 'bytes/call'], rows) +
      (notes.length > 0 ? `\n\n${notes.join('\n')}` : ''),
  );
}

function newSpaceUsed() {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_used_size;
}
async function allocatedAsync(get, n = 10_000) {
  for (let attempt = 0; attempt < 10; attempt++) {
    globalThis.gc?.();
    const before = newSpaceUsed();
    for (let i = 0; i < n; i++) await get();
    const after = newSpaceUsed();
    if (after >= before) return (after - before) / n;
  }
  return Number.NaN;
}

// 3. Cold start: 10,000 concurrent calls on an empty cache.
async function coldStart() {
  const CALLS = QUICK ? 1000 : 10_000;
  const DELAY = 20;
  await env.control({ tokenDelayMs: DELAY, expiresIn: 3600 });
  const own = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await (await fetch(env.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' })).json();
    own.push(performance.now() - t);
  }
  const endpoint = median(own);
  const rows = [];
  for (const subject of subjects) {
    // One unmeasured cycle first: a warm process (JIT, connection pool) with a cold token cache.
    const warm = await subject.start(env, { connections: 64 });
    await Promise.all(Array.from({ length: 100 }, () => (warm.getToken ?? warm.call)()));
    await warm.close();
    const instance = await subject.start(env, { connections: 64 });
    const viaHttp = instance.getToken === undefined;
    const get = viaHttp ? instance.call : instance.getToken;
    await env.reset();
    let first;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CALLS }, () =>
        get().then(
          () => (first ??= performance.now() - t0),
          () => failed++,
        ),
      ),
    );
    const all = performance.now() - t0;
    const { tokenRequests } = await env.stats();
    await instance.close();
    rows.push([
      subject.name + (viaHttp ? ' (HTTP calls)' : ''),
      tokenRequests,
      first,
      all,
      endpoint,
      ratio(first, endpoint),
      failed,
    ]);
    console.log(`  cold start ${subject.name}: ${tokenRequests} token requests`);
  }
  say(
    `## 3. Cold start: ${CALLS.toLocaleString('en-US')} concurrent calls on an empty cache\n\n` +
      `Each library first runs one unmeasured cycle (warm process: JIT and connection pool), then a fresh instance with an empty cache takes ${CALLS.toLocaleString('en-US')} calls at once. Token endpoint answers after ${DELAY} ms; its own latency (median of 10 direct POSTs) is the baseline for the first call. undici-oidc-interceptor has no token getter, so its calls are HTTP calls through its dispatcher (64 connections). Target for nestjs-client-credentials: 1 token request.\n\n` +
      table(
        [
          'library',
          'token requests',
          'first call ms',
          'all calls ms',
          'token endpoint ms',
          'first / endpoint',
          'failed',
        ],
        rows,
      ),
  );
}

// 4. Refresh under load: 2-second tokens, steady traffic at concurrency 32.
async function refreshUnderLoad() {
  const seconds = QUICK ? 5 : 20;
  await env.control({ tokenDelayMs: 20, expiresIn: 2 });
  const rows = [];
  for (const subject of subjects) {
    const instance = await subject.start(env, {});
    await env.reset();
    const run = await closedLoop(instance.call, 32, seconds * 1000, { keep: true });
    const stats = await env.stats();
    await instance.close();
    const served = run.records.filter((r) => typeof r.value === 'number');
    const firstIssued = Math.min(...served.map((r) => r.value));
    // A call waited on the token endpoint if the token it carried was issued after it began.
    const waited = served.filter((r) => r.value > r.start);
    const waitedAfterFirst = waited.filter((r) => r.start > firstIssued).length;
    rows.push([
      subject.name,
      run.calls,
      run.rps,
      waited.length - waitedAfterFirst,
      waitedAfterFirst,
      stats.api401,
      run.failed,
      stats.tokenRequests,
      run.p99,
    ]);
    console.log(`  refresh ${subject.name}: waits after first ${waitedAfterFirst}, 401s ${stats.api401}`);
  }
  say(
    `## 4. Refresh under load: 2-second tokens, ${seconds} s at concurrency 32\n\n` +
      `Token endpoint latency 20 ms. "Waited" = the call carried a token issued after the call began (exact: the API echoes the token's issue time). The first wave (calls begun before the first token existed) is counted apart. 401s are counted by the API (an expired token presented); "failed" are calls the client saw fail. Targets for nestjs-client-credentials: 0 waits after the first, 0 401s.\n\n` +
      table(
        [
          'library',
          'calls',
          'req/s',
          'first-wave waits',
          'waits after first',
          '401s at API',
          'failed',
          'token requests',
          'p99 ms',
        ],
        rows,
      ),
  );
}

// 5. Memory per cache key (each library in its own process).
async function memory() {
  const KEYS = QUICK ? 1000 : 10_000;
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const rows = [];
  const notes = [];
  const script = fileURLToPath(new URL('./memory.mjs', import.meta.url));
  for (const subject of subjects) {
    const out = execFileSync(process.execPath, ['--expose-gc', script, subject.name, env.origin, String(KEYS)], {
      encoding: 'utf8',
    });
    const result = JSON.parse(out.trim().split('\n').pop());
    rows.push([
      subject.name,
      result.perKey ?? 'n/a',
      result.baselinePerKey ?? 'n/a',
      result.perKey ? ratio(result.perKey, result.baselinePerKey) : 'n/a',
      result.tokenLength ?? 'n/a',
    ]);
    if (result.na) notes.push(`- ${subject.name}: n/a, ${result.na}.`);
    console.log(`  memory ${subject.name}: ${JSON.stringify(result)}`);
  }
  say(
    `## 5. Memory: ${KEYS.toLocaleString('en-US')} distinct cache keys (one scope each)\n\n` +
      `Heap growth after \`gc()\` per key, each library in a fresh process, after 500 warm-up keys. Peers get one cache object per key (one OAuth2Fetch / tokenCache / value cache per scope), as they keep one token each. Baseline: a \`Map\` of ${KEYS.toLocaleString('en-US')} \`{ accessToken, tokenType, expiresAt }\` entries holding tokens of the same length, measured in the same process.\n\n` +
      table(['library', 'bytes/key', 'baseline bytes/key', 'ratio', 'token length'], rows) +
      (notes.length > 0 ? `\n\n${notes.join('\n')}` : ''),
  );
}

// 6. Redaction of a hostile 1 MiB error body (issue items 2–3). Synchronous work on the event
// loop, so it is timed directly: one call per sample, fewest and median ms over the samples.
async function redaction() {
  const lib = new URL(process.env.BENCH_LIB ?? '../dist/esm/index.js', import.meta.url);
  // Internal, not exported from the package: loaded from the build next to the index.
  const { redact, sensitiveValues } = await import(new URL('./token-endpoint/redact.js', lib).href);
  const secret = 'p:a+s%s=w"o\\rd x';
  const sensitive = sensitiveValues('bench-client', secret);
  const MIB = 1024 * 1024;
  // As the library gets a body: one flat string decoded from a Buffer.
  const flat = (text) => Buffer.from(text.slice(0, MIB)).toString('utf8');
  const repeat = (unit) => flat(unit.repeat(Math.ceil(MIB / unit.length)));
  const bodies = [
    ["'eyJ' repeated (JWT prefix, no end)", repeat('eyJ')],
    ["'a.' repeated", repeat('a.')],
    ['\'"access_token":\' repeated', repeat('"access_token":')],
    ["one character ('x')", repeat('x')],
    ['random base64', flat(randomBytes(MIB).toString('base64'))],
    ["'token=x ' repeated (a value to redact every 8 bytes)", repeat('token=x ')],
    ["'eyJ.a.b a ' repeated (a JWT shape every 10 bytes)", repeat('eyJ.a.b a ')],
    ["'a ' repeated (a word every 2 bytes)", repeat('a ')],
    [
      'HTML error page repeated',
      repeat('<div class="error"><p>Service unavailable, try again later (code 503).</p></div>\n'),
    ],
  ];
  const samples = QUICK ? 5 : 21;
  const time = (fn) => {
    for (let i = 0; i < 3; i++) fn();
    const ms = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      fn();
      ms.push(performance.now() - t);
    }
    return { min: Math.min(...ms), median: median(ms) };
  };
  // The floor of any hand-written scan on this machine: read every character code once.
  const readEveryChar = (text) => {
    let sum = 0;
    for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
    return sum;
  };
  const rows = [];
  for (const [shape, body] of bodies) {
    const scan = time(() => redact(body, sensitive).length);
    const split = time(() => body.split(secret).join('x').length);
    const loop = time(() => readEveryChar(body));
    rows.push([shape, scan.min, scan.median, split.median, loop.median, scan.median < 20 ? 'yes' : 'NO']);
    console.log(
      `  redact ${shape}: ${fmt(scan.median)} ms (split/join ${fmt(split.median)} ms, char loop ${fmt(loop.median)} ms)`,
    );
  }
  say(
    `## 6. Redaction of a 1 MiB hostile error body\n\n` +
      `\`redact(body, sensitiveValues(id, secret))\` from the build (\`token-endpoint/redact.js\`): the ${sensitive.length} wire forms of the secret removed, then one left-to-right scan for key/value pairs and token shapes (past 10,000 redactions the rest of a text is dropped unread). ${samples} samples per body, one call each, after 3 warm-up calls; ms per body. Controls over the same bytes: \`body.split(secret).join('x')\` (one native pass, no token scan) and a JS loop reading every character code once (a lower bound: one pass with no decisions). Target: < 20 ms per body.\n\n` +
      table(
        ['body (1 MiB)', 'fewest ms', 'median ms', 'split/join median ms', 'char loop median ms', 'median < 20 ms'],
        rows,
      ),
  );
}

// 7. The hot path on the other two transports: section 1's method, each client against the same
// transport with a static header. ~5 minutes (6 subjects × 50 s).
async function transports() {
  const seconds = QUICK ? 0.3 : 1;
  const pairs = QUICK ? 2 : 16;
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const options = { pairs, windowMs: seconds * 1000, roundMs: seconds * 1000, label: 'transports' };
  const tables = [];
  for (const [list, { baseline }, transport] of [
    [fetchSubjects, baselines.fetch, 'global fetch'],
    [undiciSubjects, baselines.undici, 'undici request'],
  ]) {
    // The A/A control of each table: its baseline against a second copy of itself.
    const control = { name: 'A/A control: static header vs itself', transport, start: baseline, baseline };
    const rows = [];
    for (const subject of [control, ...list.filter((s) => !s.stubOnly)]) {
      rows.push(...(await pairedRows(subject, options)));
    }
    tables.push(pairedTable(rows));
  }
  say(
    `## 7. Hot path on the fetch and undici transports\n\n` +
      `Section 1's method, with shorter windows: concurrency 1, the client and its baseline take turns call by call in ${pairs} windows of ${seconds} s; concurrency 32, ${pairs} pairs of ${seconds}-s rounds, the order flipped every pair. Ratio = median of the per-window / per-pair ratios, "middle half" their 25th–75th percentiles, p99 over every call of a side; "paired p99 ratio" = median of the per-window / per-pair p99 ratios. A valid cached token throughout (1-hour tokens). The first row of each table measures its baseline against itself: the noise of this run.\n\n` +
      `### 7a. fetch\n\nBaseline: Node's global \`fetch\` (its own undici ${process.versions.undici}) with a static \`Authorization\` header; \`OAuthFetch.fetch(url)\` calls that same global \`fetch\` (both share its connection pool). Targets: ratio ≥ 0.97, p99 ratio ≤ 1.05.\n\n` +
      tables[0] +
      `\n\n### 7b. undici\n\nBaseline: undici's \`request(url, { dispatcher, headers: { authorization } })\` on a \`new Agent()\` of its own. Each client: \`request(url, { dispatcher })\` with \`new Agent().compose(oauthInterceptor(tokenService))\`, the injectable \`OAuthDispatcher\` (the same composition behind a class), or \`new Agent().compose(createOidcInterceptor(…))\`. All rows use one copy of undici (${undiciVersion()}, the one the library's \`nestjs-client-credentials/undici\` resolves). Targets for nestjs-client-credentials: ratio ≥ 0.95, p99 ratio ≤ 1.05.\n\n` +
      tables[1],
  );
}

function undiciVersion() {
  return JSON.parse(readFileSync(new URL('../node_modules/undici/package.json', import.meta.url), 'utf8')).version;
}

// 7c. The fetch and undici calls without the network (as 1b for axios): a dispatcher that answers
// at once stands in for the socket. Each client takes turns with its baseline call by call, as at
// concurrency 1 in section 1, so the machine's load meets both alike. ~1 minute.
async function transportsCpu() {
  const windows = QUICK ? 2 : 16;
  const windowMs = QUICK ? 200 : 500;
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const rows = [];
  for (const subject of [...fetchSubjects, ...undiciSubjects]) {
    const lib = await subject.start(env, { stub: true });
    const base = await subject.baseline(env, { stub: true });
    try {
      await closedLoop(lib.call, 1, 500);
      await closedLoop(base.call, 1, 500);
      const us = [];
      const baseUs = [];
      for (let w = 0; w < windows; w++) {
        const [x, y] = await alternatingCalls(lib.call, base.call, windowMs);
        us.push(1e6 / x.rps);
        baseUs.push(1e6 / y.rps);
      }
      const diffs = us.map((u, i) => u - baseUs[i]).sort((m, n) => m - n);
      const bytes = await allocatedAsync(lib.call, 100);
      const baseBytes = await allocatedAsync(base.call, 100);
      const signed = (n) => `${n >= 0 ? '+' : ''}${fmt(n)}`;
      rows.push([
        subject.name,
        subject.transport,
        median(us),
        median(baseUs),
        signed(median(diffs)),
        `${signed(percentile(diffs, 0.25))} – ${signed(percentile(diffs, 0.75))}`,
        Math.round(bytes),
        Math.round(baseBytes),
        signed(Math.round(bytes - baseBytes)),
      ]);
      console.log(`  transports-cpu ${subject.name}: ${fmt(median(us))} µs vs ${fmt(median(baseUs))}`);
    } finally {
      await lib.close();
      await base.close();
    }
  }
  say(
    `### 7c. The fetch and undici calls without the network\n\n` +
      `As 1b for axios: the dispatcher at the bottom answers at once (200 and a small JSON body, a microtask later; a new-style handler unwrapped to the old callbacks, as an Agent does), so a row is the client's own work per call: for fetch, Node's fetch machinery (the stub passed as \`init.dispatcher\`, which OAuthFetch hands on); for undici, \`request\` and the interceptors (the stub in place of the Agent; for OAuthDispatcher, in place of the Agent it composes on). The "compose" row is a control, not a client: \`Agent.compose\` with an interceptor that does nothing, sent with the baseline's static header: what composing any interceptor costs a \`request\` call in undici 7. ` +
      `Time: each client takes turns with its baseline call by call (AB, BA, …) in ${windows} windows of ${windowMs} ms; µs = mean per call, median over windows; "difference" = median of the per-window differences, and its middle half (25th–75th percentile). It moves with the machine's load. Bytes: V8 new-space growth over 100 calls (the baseline column shows how far it strays from row to row). Instructions per call (callgrind, as 1b) of the whole call are not given (see bench/transport-subjects.mjs); 7d counts the layers alone.\n\n` +
      table(
        [
          'client',
          'transport',
          'µs/call',
          'baseline µs/call',
          'difference µs',
          'middle half',
          'bytes/call',
          'baseline bytes/call',
          'bytes difference',
        ],
        rows,
      ),
  );
}

// 7e. OAuthFetch's ratio at concurrency 1 in microseconds (bench/fetch-in-situ.mjs). ~3 minutes.
async function transportsScale() {
  const { fetchInSitu } = await import('./fetch-in-situ.mjs');
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const windows = QUICK ? 2 : 30;
  const windowMs = QUICK ? 200 : 1000;
  const rows = await fetchInSitu(env, { windows, windowMs });
  say(
    `### 7e. The fetch ratio at concurrency 1, in microseconds\n\n` +
      `Each row takes turns call by call with Node's global \`fetch\` + static header (as 7a at concurrency 1), in ${windows} windows of ${windowMs} ms, the rows in turn. The last three rows are the baseline itself with a busy wait of 2, 5 and 10 µs before each \`fetch\`: the scale that turns a ratio into time added to a call. Ratio of means = req/s ratio (section 7's figure); ratio of medians = the baseline's median latency over the row's, which a stray slow call does not move. Median over windows, and the middle half (25th–75th percentile) of the per-window ratios.\n\n` +
      table(['row', 'ratio of means', 'its middle half', 'ratio of medians', 'its middle half'], rows),
  );
}

// 7g. p99 ratios from long interleaved runs (bench/tail-latency.mjs): every side of a transport in
// the same stretch, with a bootstrap interval. ~2 × 2 × BENCH_TAIL_SECONDS (default 120 s).
async function transportsTail() {
  const { interleavedCalls, interleavedRounds, meanLatency, p99Ratio, sortedBlock } =
    await import('./tail-latency.mjs');
  const durationMs = QUICK ? 2_000 : Number(process.env.BENCH_TAIL_SECONDS ?? 120) * 1000;
  const blockMs = QUICK ? 200 : 1_000;
  const roundMs = QUICK ? 100 : 500;
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const measured = []; // the statistics come after all of it: a bootstrap is seconds of idle sockets
  for (const [list, { baseline }, transport] of [
    [fetchSubjects, baselines.fetch, 'global fetch'],
    [undiciSubjects.filter((s) => s.id.startsWith('oauth-')), baselines.undici, 'undici request'],
  ]) {
    const names = ['A/A control: static header vs itself', ...list.map((s) => s.name)];
    const sides = [await baseline(env), await baseline(env), ...(await Promise.all(list.map((s) => s.start(env))))];
    const calls = sides.map((side) => side.call);
    try {
      for (const concurrency of [1, 32]) {
        for (const call of calls) await closedLoop(call, concurrency, 500);
        const latencies =
          concurrency === 1
            ? await interleavedCalls(calls, durationMs, blockMs)
            : await interleavedRounds(calls, concurrency, durationMs, roundMs);
        measured.push({ names, transport, concurrency, ...latencies });
        console.log(`  transports-tail ${transport} c=${concurrency}: measured`);
      }
    } finally {
      for (const side of sides) await side.close();
    }
  }
  const rows = measured.flatMap(({ names, transport, concurrency, sides, failed }) => {
    const [base, ...others] = sides.map((blocks) => blocks.map(sortedBlock));
    const baseMean = meanLatency(base);
    return others.map((side, i) => {
      const r = p99Ratio(side, base);
      return [
        names[i],
        transport,
        concurrency,
        r.calls,
        (baseMean / meanLatency(side)).toFixed(3),
        r.p99,
        r.baselineP99,
        r.ratio.toFixed(3),
        `${r.low.toFixed(3)}–${r.high.toFixed(3)}`,
        failed[i + 1],
      ];
    });
  });
  const seconds = durationMs / 1000;
  say(
    `### 7g. p99 from long interleaved runs\n\n` +
      `At concurrency 1 fetch's p99 falls where the latency distribution is sparse (this machine's stalls of a few ms hit 1–2 % of calls: p98 ~0.8 ms, p99 1.3–2.5 ms, p99.5 ~5 ms), and at 32 a round's p99 moves with the collections and stalls that happen to land in it, so section 7's p99 ratios swing by up to ±15 % in its own A/A rows. Here all sides of a transport run in one stretch of ${seconds} s per concurrency: the baseline (\`fetch\` or \`undici.request\` with a static header), a second copy of it (the A/A control), and the library's clients. Concurrency 1: every turn calls each side once, in a fresh random order, latencies grouped in blocks of ${blockMs} ms. Concurrency 32: rounds of ${roundMs} ms, one side at a time, each side once per cycle in random order. p99 over every call of a side; the interval is the 5th–95th percentile of the same ratio over 200 bootstrap resamples of blocks (a side's block and the baseline's of the same cycle drawn together). "req/s ratio" = the baseline's mean latency over the side's (at a fixed concurrency, req/s = concurrency / mean latency), a throughput ratio over the same stretch. Target: p99 ratio ≤ 1.05.\n\n` +
      table(
        [
          'client',
          'transport',
          'concurrency',
          'calls',
          'req/s ratio',
          'p99 ms',
          'baseline p99 ms',
          'p99 ratio',
          '90 % interval',
          'failed',
        ],
        rows,
      ),
  );
}

// 8. The observability seam on the hot path (bench/telemetry.mjs).
async function telemetry() {
  const { telemetryOverhead } = await import('./telemetry.mjs');
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const { rows, counted } = await telemetryOverhead(env, { quick: QUICK });
  say(
    `## 8. Observability on the hot path

` +
      `tinybench, 1000 calls per iteration, one process on one core; three apps on the same upstream: telemetry off (baseline), off again (A/A control), and on with the OpenTelemetry SDK's MeterProvider registered, so every lookup increments \`oauth.client.token.cache.lookups\` (${counted.toLocaleString('en-US')} increments recorded in this run). Each run twice in opposite orders, averaged. Target: on/off ≥ 0.98.\n\n` +
      table(['call', 'off ops/s', 'A/A ops/s', 'on ops/s', 'A/A ratio', 'on/off ratio'], rows),
  );
}

// 9. DPoP proofs on the hot path (bench/dpop.mjs): needs only the build.
async function dpop() {
  const { dpopProofCost } = await import('./dpop.mjs');
  const rows = await dpopProofCost({ quick: QUICK });
  say(
    `## 9. DPoP proofs per request\n\n` +
      `tinybench, one process on one core. A call with a DPoP-bound token signs one proof per request and per redirect hop (\`jti\`, \`htm\`, \`htu\`, \`iat\`, \`ath\` of a 600-byte token, a nonce); the Bearer path's per-call header work is the baseline. Target: ES256 and EdDSA under 100 µs per proof.\n\n` +
      table(
        ['per call', 'ops/s (one core)', 'µs per call', 'µs over Bearer'],
        rows.map(([name, ops, us, over]) => [name, ops, us.toFixed(2), over.toFixed(2)]),
      ),
  );
}

// 10. Many cached keys (bench/many-keys.mjs, a process of its own): needs only the build.
async function manyKeys() {
  const KEYS = QUICK ? 10_000 : 100_000;
  const script = fileURLToPath(new URL('./many-keys.mjs', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', script, String(KEYS), QUICK ? '1' : '0'], {
    encoding: 'utf8',
  });
  const result = JSON.parse(out.trim().split('\n').pop());
  console.log(`  many-keys: ${JSON.stringify(result)}`);
  const { memory: m, throughput } = result;
  const [base, control, ...library] = throughput;
  const keys = KEYS.toLocaleString('en-US');
  say(
    `## 10. Many cached keys: ${keys} tokens in the cache\n\n` +
      `A process of its own. Memory: heap growth after \`gc()\` per cached key (one client, one scope per key, tokens of ${result.tokenLength} characters from a store that already holds them, after 500 warm-up keys); baseline: a \`Map\` of \`{ accessToken, tokenType, expiresAt }\` entries with tokens alike, and the A/A control the same baseline measured again. Throughput: tinybench, \`await getToken()\` 1,000× per iteration with ${keys} keys cached (\`maxCachedTokens\` above that): one key over and over, and 1,000 keys in turn (each call moves its key to the recent end of the LRU order); the last row is a module with a single key cached, for comparison. Targets: ≤ 700 B per key, ≥ 5 M ops/s.\n\n` +
      table(
        ['memory', 'bytes/key', 'baseline bytes/key', 'ratio'],
        [
          [
            'A/A control: the baseline again',
            m.control.toFixed(0),
            m.baseline.toFixed(0),
            ratio(m.control, m.baseline),
          ],
          ['nestjs-client-credentials', m.library.toFixed(0), m.baseline.toFixed(0), ratio(m.library, m.baseline)],
        ],
      ) +
      '\n\n' +
      table(
        ['cached getToken', 'ops/s', 'baseline ops/s', 'ratio'],
        [control, ...library].map(([name, ops]) => [name, ops, base[1], ratio(ops, base[1])]),
      ),
  );
}

// 7f. Instructions per call of a whole fetch call, Node's fetch included (bench/fetch-instructions-client.mjs).
async function fetchInstructions() {
  if (!callgrindAvailable()) return;
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const client = fileURLToPath(new URL('./fetch-instructions-client.mjs', import.meta.url));
  // Under callgrind one fetch call takes some 25 ms: rounds of 100 calls.
  const options = { client, calls: QUICK ? 20 : 100, warmup: QUICK ? 2 : 4, rounds: QUICK ? 2 : 6 };
  const count = async (side) => Math.round(await instructionsPerCall(side, env.origin, options));
  const baseline = await count('baseline');
  const rows = [];
  for (const [name, side] of [
    ['A/A control: fetch + static header, again', 'baseline'],
    ["OAuthFetch.fetch on Node's own fetch (the token handed to the dispatcher)", 'library'],
    ['OAuthFetch.fetch on a wrapped global fetch, as under MSW (the token as a header)', 'library-wrapped'],
  ]) {
    const n = await count(side);
    rows.push([name, n, baseline, n - baseline, ratio(n, baseline)]);
    console.log(`  fetch-instructions ${side}: ${n} vs ${baseline}`);
  }
  say(
    `### 7f. Instructions per call: a whole fetch call\n\n` +
      `callgrind as 7d, the fewest instructions per call over 6 clean rounds of 100 calls after 4 warm-up rounds, counting all of a call: Node's fetch (its undici ${process.versions.undici}) included, the body read, over a dispatcher that answers at once (\`init.dispatcher\`: the stub of 7c, so no socket). Baseline: \`fetch(url, { headers: { accept, authorization }, dispatcher })\`; the library's calls pass \`{ headers: { accept }, dispatcher }\` and a token is cached. On Node's own fetch the library hands the token to the dispatcher as fetch dispatches the call; where \`globalThis.fetch\` is not Node's own (here wrapped in a function, as MSW or nock do), it gives fetch the token as a header, as the baseline does. Clean rounds still differ by up to 2× (deferred work, a finalizer or a timer, lands in one round or another), so the fewest moves by some ±20,000 from run to run: compare a row with the A/A control of the same run.\n\n` +
      table(['side', 'instr/call', 'baseline instr/call', 'difference', 'ratio'], rows),
  );
}

// 7d. Instructions per call of the fetch and undici layers alone (bench/transport-instructions-client.mjs).
async function transportsInstructions() {
  if (!callgrindAvailable()) {
    say('### 7d. Instructions per call (fetch, undici)\n\nvalgrind is not installed: not measured.');
    return;
  }
  await env.control({ tokenDelayMs: 0, expiresIn: 3600 });
  const client = fileURLToPath(new URL('./transport-instructions-client.mjs', import.meta.url));
  const options = { client, calls: QUICK ? 200 : 1000, warmup: QUICK ? 2 : 6, rounds: QUICK ? 2 : 6 };
  const count = (side) => instructionsPerCall(side, env.origin, options);
  const layers = [
    ['OAuthFetch.fetch', 'fetch-library'],
    ['OAuthDispatcher.dispatch', 'undici-library'],
    ['oauthInterceptor (composed)', 'interceptor-library'],
    ['control: compose(interceptor that does nothing)', 'interceptor-noop'],
  ];
  const rows = [];
  const baselineCounts = new Map(); // the interceptor and its control share one baseline (and its A/A)
  for (const [layer, side] of layers) {
    const baselineSide = side.replace(/-(library|noop)$/, '-baseline');
    const library = Math.round(await count(side));
    if (!baselineCounts.has(baselineSide)) {
      const pair = [Math.round(await count(baselineSide)), Math.round(await count(baselineSide))];
      baselineCounts.set(baselineSide, pair);
    }
    const [baseline, control] = baselineCounts.get(baselineSide);
    rows.push([layer, library, baseline, control, library - baseline]);
    console.log(`  transports-instructions ${side}: ${library} vs ${baseline}`);
  }
  say(
    `### 7d. Instructions per call: the fetch and undici layers\n\n` +
      `callgrind (as 1b), the fewest instructions per call over 6 clean rounds of 1,000 calls after 6 warm-up rounds (bench/instructions.mjs: a clean round is one without a garbage collection or work on another thread; V8 runs without the memory reducer and incremental marking, which otherwise start on a timer and tripled the count under load). The transport under each side is a stub that answers at once and drives the handler synchronously (for fetch, \`globalThis.fetch\` replaced by a function returning a ready response, so \`OAuthFetch\` takes the path of a fetch not Node's own and gives it the token as a header: 7f counts the whole call on Node's fetch; for undici, the stub in place of the Agent, taking handlers as an Agent does), so the count is the layer's own work per call with a cached token, against the same call with a static \`Authorization\` header (the baseline; the A/A control measures the baseline again). The interceptor is composed over the stub (\`Dispatcher.compose\`); the control row composes an interceptor that does nothing, with the static header: what composing any interceptor costs a dispatch in undici 7 (the handler wrapped to the new API for it, and unwrapped back below). Node's fetch machinery and undici's \`request\` are not counted (7c gives their time).\n\n` +
      table(
        ['layer', 'library instr/call', 'baseline instr/call', 'A/A control instr/call', 'added by the layer'],
        rows,
      ),
  );
}
