// Section 8: what the observability seam costs the cached-token hot path. `getToken` (what every
// caller awaits) and `cachedToken` (what every transport's hook calls, synchronously) on three apps
// against the same upstream: telemetry off (the baseline), off again (the A/A control: how far two
// identical setups differ in this run), and on, with the real OpenTelemetry SDK's MeterProvider
// registered (each lookup increments `oauth.client.token.cache.lookups`). Target: ≥ 0.98.
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Bench } from 'tinybench';
import { credentials, nestApp } from './subjects.mjs';

const LIB = new URL(process.env.BENCH_LIB ?? '../dist/esm/index.js', import.meta.url);
const { OAuthModule, TokenService } = await import(LIB.href);

class CollectOnDemand extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

async function app(env, telemetry) {
  const ctx = await nestApp([
    OAuthModule.forRoot({
      logger: false,
      telemetry,
      clients: {
        api: {
          strategy: 'oauth2',
          tokenUrl: env.tokenUrl,
          clientId: credentials.CLIENT_ID,
          clientSecret: credentials.CLIENT_SECRET,
        },
      },
    }),
  ]);
  const tokens = ctx.get(TokenService);
  await tokens.getToken('api');
  return { tokens, close: () => ctx.close() };
}

/** Rows of [what, ops/s off, ops/s A/A, ops/s on, A/A ratio, on/off ratio]; `quick` shortens the run. */
export async function telemetryOverhead(env, { quick = false } = {}) {
  const reader = new CollectOnDemand();
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  const off = await app(env, false);
  const control = await app(env, false);
  const on = await app(env, true);
  const BATCH = 1000;
  const rows = [];
  try {
    for (const [what, call] of [
      ['await getToken()', (t) => t.getToken('api')],
      ['cachedToken() (the transports’ hook)', (t) => t.cachedToken('api')],
    ]) {
      const subjects = [
        ['off', off],
        ['A/A', control],
        ['on', on],
      ];
      // Three rounds, each subject first once: the order within a run favours no side.
      const ops = { off: [], 'A/A': [], on: [] };
      for (let round = 0; round < subjects.length; round++) {
        const bench = new Bench({ time: quick ? 200 : 1500, warmupTime: quick ? 50 : 300 });
        for (const [name, subject] of [...subjects.slice(round), ...subjects.slice(0, round)]) {
          bench.add(name, async () => {
            for (let i = 0; i < BATCH; i++) await call(subject.tokens);
          });
        }
        await bench.run();
        for (const task of bench.tasks) ops[task.name].push(task.result.throughput.mean * BATCH);
      }
      const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const [offOps, aaOps, onOps] = [mean(ops.off), mean(ops['A/A']), mean(ops.on)];
      rows.push([what, offOps, aaOps, onOps, (aaOps / offOps).toFixed(3), (onOps / offOps).toFixed(3)]);
    }
    const { resourceMetrics } = await reader.collect();
    const lookups = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'oauth.client.token.cache.lookups');
    const counted = lookups?.dataPoints.reduce((sum, p) => sum + p.value, 0) ?? 0;
    return { rows, counted };
  } finally {
    await off.close();
    await control.close();
    await on.close();
    metrics.disable();
    await provider.shutdown();
  }
}
