import 'reflect-metadata';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { OAuthModule, TokenRequestError, type OAuthErrorCode } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { json, startRecordingServer } from '../support/recording-server.js';
import {
  htmlOk,
  hugeBody,
  neverAnswer,
  resetAtOnce,
  resetMidBody,
  slowLorisHeaders,
  startFaultServer,
  status503,
  tokenResponse,
  truncatedJson,
  type FaultServer,
} from './fault-server.js';

/**
 * Fault injection against a loopback token endpoint. Every case must end in a success or a typed
 * `TokenRequestError` (never a hang, never an unhandled rejection) and leave no socket or timer
 * behind. Backoff runs on a FakeClock; only the per-attempt deadline is real time.
 *
 * Unhandled rejections: jest 30 fails the running test on any (checked by hand with a stray
 * `Promise.reject`), so a library promise rejected without a handler fails the case it came from.
 */
const TIMEOUT_MS = 300;
const MAX_ATTEMPTS = 3;
/** Not a timing assertion: a hang detector, far above the configured worst case. */
const HANG_GUARD_MS = MAX_ATTEMPTS * TIMEOUT_MS + 8000;

let server: FaultServer;
let app: Booted | undefined;
let baseline: Record<string, number>;

beforeAll(async () => {
  server = await startFaultServer(tokenResponse());
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.fallback = tokenResponse();
  baseline = resources();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  // Every socket the client opened is closed by the client or with the server's consent, and
  // no deadline timer outlives its request.
  await until(() => server.openSockets === 0, 'server-side sockets to close');
  await until(
    () => noMoreThan(resources(), baseline),
    () => `open handles back to ${JSON.stringify(baseline)}, now ${JSON.stringify(resources())}`,
  );
});

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (name === 'TCPSocketWrap' || name === 'TCPServerWrap' || name === 'Timeout')
      counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
function noMoreThan(now: Record<string, number>, before: Record<string, number>): boolean {
  return Object.entries(now).every(([name, count]) => count <= (before[name] ?? 0));
}

/** Bounded polling for a condition (no fixed sleeps). */
async function until(condition: () => boolean, what: string | (() => string), limitMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Settles `promise` or fails the test as a hung promise. */
async function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  let guard: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error(`hung promise: not settled within ${HANG_GUARD_MS} ms`)), HANG_GUARD_MS);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome<T> => ({ ok: true, value }),
        (error: unknown): Outcome<T> => ({ ok: false, error }),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(guard);
  }
}

async function boot(url = server.url): Promise<Booted> {
  app = await bootOAuth(
    { api: { strategy: 'oauth2', tokenUrl: `${url}/oauth/token`, clientId: 'id', clientSecret: 's3cr3t-value' } },
    { timeoutMs: TIMEOUT_MS, retry: { maxAttempts: MAX_ATTEMPTS } },
  );
  return app;
}

async function expectTyped(
  outcome: Outcome<unknown>,
  code: OAuthErrorCode,
  attempts: number,
): Promise<TokenRequestError> {
  expect(outcome.ok).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(TokenRequestError);
  expect(error).toMatchObject({ client: 'api', code, attempts });
  expect(String((error as Error).message)).not.toContain('s3cr3t-value');
  return error as TokenRequestError;
}

async function refusedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('transport faults end in a typed error after the retries', () => {
  it('connection refused → network_error', async () => {
    const a = await boot(`http://127.0.0.1:${await refusedPort()}`);
    await expectTyped(await settle(a.tokens.getToken('api')), 'network_error', MAX_ATTEMPTS);
    expect(a.clock.sleeps).toHaveLength(MAX_ATTEMPTS - 1);
  });

  it('reset before any byte of the response → network_error', async () => {
    const a = await boot();
    server.fallback = resetAtOnce;
    await expectTyped(await settle(a.tokens.getToken('api')), 'network_error', MAX_ATTEMPTS);
    expect(server.requests).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
  });

  it('reset in the middle of the body → network_error', async () => {
    const a = await boot();
    server.fallback = resetMidBody;
    await expectTyped(await settle(a.tokens.getToken('api')), 'network_error', MAX_ATTEMPTS);
  });

  it('a reset, then a good answer → success on the retry', async () => {
    const a = await boot();
    server.script(resetMidBody, resetAtOnce);
    const outcome = await settle(a.tokens.getToken('api'));
    expect(outcome).toMatchObject({ ok: true, value: { accessToken: 'good-token' } });
  });

  it('a server that accepts and never answers → timeout; the client closes every socket', async () => {
    const a = await boot();
    server.fallback = neverAnswer;
    const before = server.requests;
    await expectTyped(await settle(a.tokens.getToken('api')), 'timeout', MAX_ATTEMPTS);
    expect(server.requests - before).toBe(MAX_ATTEMPTS);
    // The server never closes these: only the client's deadline can.
    await until(() => server.openSockets === 0, 'the client to abandon its sockets');
  });

  it('slow-loris headers (a byte every 20 ms, never finished) → timeout, not a hang', async () => {
    const a = await boot();
    server.fallback = slowLorisHeaders;
    await expectTyped(await settle(a.tokens.getToken('api')), 'timeout', MAX_ATTEMPTS);
    await until(() => server.openSockets === 0, 'the client to abandon its sockets');
  });

  it('1,000 concurrent callers during a hang share one request per attempt and all get the same typed error', async () => {
    const a = await boot();
    server.fallback = neverAnswer;
    const before = server.requests;
    const outcomes = await Promise.all(Array.from({ length: 1000 }, () => settle(a.tokens.getToken('api'))));
    for (const outcome of outcomes) await expectTyped(outcome, 'timeout', MAX_ATTEMPTS);
    expect(server.requests - before).toBe(MAX_ATTEMPTS);
  });
});

describe('malformed answers end in invalid_response at once (not retried)', () => {
  it('truncated JSON in a 200 → invalid_response', async () => {
    const a = await boot();
    server.fallback = truncatedJson;
    const error = await expectTyped(await settle(a.tokens.getToken('api')), 'invalid_response', 1);
    expect(error.status).toBe(200);
  });

  it('a 200 with an HTML page → invalid_response with a snippet of the page', async () => {
    const a = await boot();
    server.fallback = htmlOk;
    const error = await expectTyped(await settle(a.tokens.getToken('api')), 'invalid_response', 1);
    expect(error.bodySnippet).toContain('Please sign in');
  });

  it('a 10 MB 200 body is cut at 1 MiB → invalid_response, a short snippet', async () => {
    const a = await boot();
    server.fallback = hugeBody('200 OK');
    const error = await expectTyped(await settle(a.tokens.getToken('api')), 'invalid_response', 1);
    expect((error.bodySnippet ?? '').length).toBeLessThanOrEqual(201);
    expect(process.memoryUsage().heapUsed).toBeLessThan(1024 * 1024 * 1024);
  });

  it('a 10 MB 500 body → server_error after the retries', async () => {
    const a = await boot();
    server.fallback = hugeBody('500 Internal Server Error');
    const error = await expectTyped(await settle(a.tokens.getToken('api')), 'server_error', MAX_ATTEMPTS);
    expect(error.status).toBe(500);
  });
});

describe('flapping 503s', () => {
  it('503 then 200 → success; three 503s in a row → temporarily_unavailable', async () => {
    const a = await boot();
    server.script(status503);
    expect(await settle(a.tokens.getToken('api'))).toMatchObject({ ok: true, value: { accessToken: 'good-token' } });
    server.script(status503, status503, status503);
    const error = await expectTyped(
      await settle(a.tokens.getToken('api', { forceRefresh: true })),
      'temporarily_unavailable',
      MAX_ATTEMPTS,
    );
    expect(error.status).toBe(503);
  });

  it('an endpoint that alternates 503 and 200 serves every one of 50 forced refreshes', async () => {
    const a = await boot();
    let flip = false;
    server.fallback = (socket) => {
      flip = !flip;
      (flip ? status503 : tokenResponse())(socket);
    };
    for (let i = 0; i < 50; i++) {
      const outcome = await settle(a.tokens.getToken('api', { forceRefresh: true }));
      expect(outcome).toMatchObject({ ok: true, value: { accessToken: 'good-token' } });
    }
  });
});

describe('HttpService calls while the token endpoint fails', () => {
  it('reject with TokenRequestError and never reach the upstream without a token (fail closed)', async () => {
    const upstream = await startRecordingServer({ 'GET /data': (_req, res) => json(res, 200, { ok: true }) });
    const moduleRef = await Test.createTestingModule({
      imports: [
        HttpModule,
        OAuthModule.forRoot({
          logger: new CaptureLogger(),
          clock: new FakeClock(),
          timeoutMs: TIMEOUT_MS,
          clients: {
            api: {
              strategy: 'oauth2',
              tokenUrl: `${server.url}/oauth/token`,
              clientId: 'id',
              clientSecret: 's3cr3t-value',
              attachTo: [upstream.url],
            },
          },
        }),
      ],
    }).compile();
    await moduleRef.init();
    try {
      const http = moduleRef.get(HttpService);
      const faults = [resetAtOnce, neverAnswer, truncatedJson, htmlOk, status503];
      for (const fault of faults) {
        server.fallback = fault;
        const outcome = await settle(firstValueFrom(http.get(`${upstream.url}/data`)));
        expect(outcome.ok).toBe(false);
        expect((outcome as { error: unknown }).error).toBeInstanceOf(TokenRequestError);
      }
      expect(upstream.requests).toHaveLength(0);
      server.fallback = tokenResponse();
      const ok = await settle(firstValueFrom(http.get(`${upstream.url}/data`)));
      expect(ok.ok).toBe(true);
      expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Bearer good-token']);
    } finally {
      await moduleRef.close();
      await upstream.close();
    }
  });
});
