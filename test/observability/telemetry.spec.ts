import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { bootHttp, oauth2Client, startTokenServer, startUpstream } from '../http/http-support.js';
import { HttpService } from '@nestjs/axios';
import { bootOAuth } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json } from '../support/recording-server.js';

/**
 * The real OpenTelemetry SDK, registered as the global providers: the instruments and the span of
 * the contract, with their names, units and attributes, and nothing that could carry a credential.
 */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const { track } = closeAfterEach();
let reader: TestReader;
let meterProvider: MeterProvider;
let spans: InMemorySpanExporter;
let tracerProvider: TracerProvider;

beforeEach(() => {
  reader = new TestReader();
  meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  spans = new InMemorySpanExporter();
  tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  trace.setGlobalTracerProvider(tracerProvider);
});

afterEach(async () => {
  metrics.disable();
  trace.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});

async function collected(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === 'nestjs-client-credentials');
  return new Map((scope?.metrics ?? []).map((m) => [m.descriptor.name, m]));
}

const points = (metric: MetricData | undefined) =>
  (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value as unknown }));

describe('OpenTelemetry', () => {
  it('counts token requests by outcome and times them, in seconds', async () => {
    const tokens = track(await startTokenServer('secret-token'));
    tokens.route('POST /bad/token', (_req, res) => json(res, 401, { error: 'invalid_client' }));
    const app = track(
      await bootOAuth(
        {
          good: oauth2Client(tokens, { scope: 'very-private-scope' }),
          bad: oauth2Client(tokens, { tokenUrl: `${tokens.url}/bad/token` }),
        },
        { retry: { maxAttempts: 1 } },
      ),
    );
    await app.tokens.getToken('good');
    await expect(app.tokens.getToken('bad')).rejects.toThrow();
    const all = await collected();
    const requests = all.get('oauth.client.token.requests')!;
    expect(requests.descriptor.unit).toBe('{request}');
    expect(points(requests)).toEqual(
      expect.arrayContaining([
        { attributes: { 'oauth.client': 'good', outcome: 'success' }, value: 1 },
        { attributes: { 'oauth.client': 'bad', outcome: 'error', 'error.type': 'invalid_client' }, value: 1 },
      ]),
    );
    const duration = all.get('oauth.client.token.duration')!;
    expect(duration.descriptor.unit).toBe('s');
    expect(duration.dataPoints.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([{ 'oauth.client': 'good' }, { 'oauth.client': 'bad' }]),
    );
    const text = JSON.stringify([...all.values()].map((m) => m.dataPoints.map((p) => p.attributes)));
    for (const secret of ['secret-token', 'very-private-scope', 'secret']) expect(text).not.toContain(secret);
  });

  it('cache lookups: miss, hit, then stale past expiresAt − skew (the refresh-ahead window is a hit)', async () => {
    const tokens = track(await startTokenServer());
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }));
    await app.tokens.getToken('api'); // miss
    await app.tokens.getToken('api'); // hit
    app.clock.advance(0.8 * 3_600_000);
    await app.tokens.getToken('api'); // hit, in the refresh-ahead window (refreshes in the background)
    app.clock.advance(3_600_000);
    await app.tokens.getToken('api'); // stale
    const lookups = (await collected()).get('oauth.client.token.cache.lookups')!;
    expect(lookups.descriptor.unit).toBe('{lookup}');
    const byResult = Object.fromEntries(points(lookups).map((p) => [p.attributes.result, p.value]));
    expect(byResult).toEqual({ miss: 1, hit: 2, stale: 1 });
  });

  it('time to expiry: one point per client with a cached token, the soonest, by the module clock', async () => {
    const tokens = track(await startTokenServer());
    const app = track(
      await bootOAuth({ a: oauth2Client(tokens), b: oauth2Client(tokens), idle: oauth2Client(tokens) }),
    );
    await app.tokens.getToken('a');
    app.clock.advance(600_000);
    await app.tokens.getToken('a', { scope: 'other' });
    await app.tokens.getToken('b');
    app.clock.advance(60_000);
    const gauge = (await collected()).get('oauth.client.token.time_to_expiry')!;
    expect(gauge.descriptor.unit).toBe('s');
    expect(
      points(gauge).sort((x, y) =>
        String(x.attributes['oauth.client']).localeCompare(String(y.attributes['oauth.client'])),
      ),
    ).toEqual([
      { attributes: { 'oauth.client': 'a' }, value: 3600 - 660 },
      { attributes: { 'oauth.client': 'b' }, value: 3600 - 60 },
    ]);
  });

  it('retried calls, by reason', async () => {
    const tokens = track(await startTokenServer());
    const api = track(await startUpstream((authorization) => authorization !== 'Bearer tok-1'));
    const app = track(await bootHttp({ api: oauth2Client(tokens, { attachTo: [api.url] }) }));
    await app.moduleRef.get(HttpService).axiosRef.get(`${api.url}/items`);
    const retries = (await collected()).get('oauth.client.request.retries')!;
    expect(retries.descriptor.unit).toBe('{retry}');
    expect(points(retries)).toEqual([{ attributes: { 'oauth.client': 'api', reason: '401' }, value: 1 }]);
  });

  it('one oauth.token_request span per token request: CLIENT, server, status, attempts; errors by code only', async () => {
    const tokens = track(await startTokenServer('secret-token'));
    let calls = 0;
    tokens.route('POST /flaky/token', (_req, res) =>
      ++calls === 1
        ? json(res, 503, { error: 'temporarily_unavailable' })
        : json(res, 200, { access_token: 'secret-2', expires_in: 60 }),
    );
    tokens.route('POST /bad/token', (_req, res) =>
      json(res, 400, { error: 'invalid_scope', error_description: 'secret-token' }),
    );
    const app = track(
      await bootOAuth({
        flaky: oauth2Client(tokens, { tokenUrl: `${tokens.url}/flaky/token` }),
        bad: oauth2Client(tokens, { tokenUrl: `${tokens.url}/bad/token` }),
      }),
    );
    await app.tokens.getToken('flaky');
    await expect(app.tokens.getToken('bad')).rejects.toThrow();
    const finished = spans.getFinishedSpans();
    expect(finished.map((s) => [s.name, s.kind, s.attributes])).toEqual([
      [
        'oauth.token_request',
        SpanKind.CLIENT,
        {
          'oauth.client': 'flaky',
          'oauth.attempts': 2,
          'server.address': '127.0.0.1',
          'http.response.status_code': 200,
        },
      ],
      [
        'oauth.token_request',
        SpanKind.CLIENT,
        {
          'oauth.client': 'bad',
          'oauth.attempts': 1,
          'server.address': '127.0.0.1',
          'http.response.status_code': 400,
          'error.type': 'invalid_scope',
        },
      ],
    ]);
    expect(finished[1]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'invalid_scope' });
    expect(finished.every((s) => s.instrumentationScope.name === 'nestjs-client-credentials')).toBe(true);
    expect(JSON.stringify(finished.map((s) => [s.attributes, s.status, s.events]))).not.toMatch(/secret/);
  });

  it('telemetry: false records nothing', async () => {
    const tokens = track(await startTokenServer());
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }, { telemetry: false }));
    await app.tokens.getToken('api');
    expect([...(await collected()).keys()]).toEqual([]);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
