import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TokenRequestError, type OAuthModuleOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

let server: RecordingServer;
let script: ((res: ServerResponse) => void)[] = [];
const ok = (res: ServerResponse) => json(res, 200, { access_token: 'fresh', token_type: 'Bearer', expires_in: 3600 });
let app: Booted | undefined;

beforeAll(async () => {
  server = await startRecordingServer({ 'POST /oauth/token': (_req, res) => (script.shift() ?? ok)(res) });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  script = [];
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(url = server.url, options: Partial<OAuthModuleOptions> = {}) {
  app = await bootOAuth({ api: { strategy: 'oauth2', baseUrl: url, clientId: 'id', clientSecret: 'pw' } }, options);
  return app;
}
async function failure(a: Booted): Promise<TokenRequestError> {
  const error = await a.tokens.getToken('api').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
}
const status =
  (code: number, body: unknown = {}, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    json(res, code, body, headers);

describe('retries', () => {
  it('retries 5xx with exponential backoff and full jitter, then succeeds', async () => {
    const a = await boot();
    script = [status(500), status(502)];
    await expect(a.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'fresh' });
    expect(server.requests).toHaveLength(3);
    expect(a.clock.sleeps).toHaveLength(2);
    expect(a.clock.sleeps[0]).toBeGreaterThanOrEqual(0);
    expect(a.clock.sleeps[0]).toBeLessThan(200);
    expect(a.clock.sleeps[1]).toBeLessThan(400);
  });

  it('gives up after maxAttempts (3) with the last error and the attempt count', async () => {
    const a = await boot();
    script = [status(503), status(503), status(503), ok];
    const error = await failure(a);
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503, attempts: 3 });
    expect(server.requests).toHaveLength(3);
  });

  it('maxAttempts: 1 disables retries; per-client retry overrides the module default', async () => {
    const a = await boot(server.url, { retry: { maxAttempts: 1 } });
    script = [status(500)];
    expect(await failure(a)).toMatchObject({ code: 'server_error', attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [400, 'invalid_request'],
    [401, 'invalid_client'],
    [403, 'invalid_client'],
    [404, 'invalid_request'],
    [405, 'invalid_request'],
    [409, 'invalid_request'],
    [415, 'invalid_request'],
    [422, 'invalid_request'],
  ])('%i is never retried and maps to %s', async (code, expected) => {
    const a = await boot();
    script = [status(code), ok];
    expect(await failure(a)).toMatchObject({ status: code, code: expected, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('an RFC 6749 error in the body beats the status', async () => {
    const a = await boot();
    script = [status(403, { error: 'invalid_scope', error_description: 'no such scope' })];
    expect(await failure(a)).toMatchObject({ status: 403, code: 'invalid_scope', description: 'no such scope' });
  });
});

describe('retry hints', () => {
  it('Retry-After in seconds sets the wait', async () => {
    const a = await boot();
    script = [status(429, {}, { 'retry-after': '2' })];
    await a.tokens.getToken('api');
    expect(a.clock.sleeps).toEqual([2000]);
  });

  it('Retry-After as an HTTP-date sets the wait', async () => {
    const a = await boot();
    script = [(res) => json(res, 503, {}, { 'retry-after': new Date(a.clock.now() + 3000).toUTCString() })];
    await a.tokens.getToken('api');
    expect(a.clock.sleeps).toEqual([3000]);
  });

  it('a hint above maxRetryAfterMs fails at once with rate_limited and retryAfterMs', async () => {
    const a = await boot();
    script = [status(429, {}, { 'retry-after': '30' })];
    expect(await failure(a)).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 30_000, attempts: 1 });
    expect(a.clock.sleeps).toEqual([]);
  });

  it('the cooldown fails fast without a request, repeating the error, until the window ends', async () => {
    const a = await boot();
    script = [status(429, { error: 'slow_down' }, { 'retry-after': '30' })];
    await failure(a);
    a.clock.advance(10_000);
    const fast = await failure(a);
    expect(fast).toMatchObject({
      code: 'rate_limited',
      status: 429,
      providerCode: 'slow_down',
      attempts: 0,
      retryAfterMs: 20_000,
    });
    expect(server.requests).toHaveLength(1);
    a.clock.advance(20_000);
    await expect(a.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'fresh' });
    expect(server.requests).toHaveLength(2);
  });

  it('retries used up on hinted 503s also start a cooldown', async () => {
    const a = await boot();
    script = [1, 2, 3].map(() => status(503, {}, { 'retry-after': '1' }));
    expect(await failure(a)).toMatchObject({ code: 'temporarily_unavailable', attempts: 3, retryAfterMs: 1000 });
    expect((await failure(a)).attempts).toBe(0);
    expect(server.requests).toHaveLength(3);
  });
});

describe('transport failures', () => {
  it('connection refused is network_error after the retries', async () => {
    const closed = await startRecordingServer();
    const url = closed.url;
    await closed.close();
    const a = await boot(url);
    const error = await failure(a);
    expect(error).toMatchObject({ code: 'network_error', attempts: 3 });
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  describe('a server that accepts and never answers', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      silent = createServer(() => undefined);
      silent.on('connection', (s) => sockets.add(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('times out after timeoutMs per attempt', async () => {
      const { port } = silent.address() as AddressInfo;
      const a = await boot(`http://127.0.0.1:${port}`, { timeoutMs: 150, retry: { maxAttempts: 2 } });
      expect(await failure(a)).toMatchObject({ code: 'timeout', attempts: 2 });
    });
  });
});
