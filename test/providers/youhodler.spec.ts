import { afterEach, describe, expect, it } from '@jest/globals';
import { YouHodlerStrategy } from '../../lib/strategies/youhodler.strategy.js';
import { ProviderHarness, jwtClaims, tokenError } from './support/provider-harness.js';

let h: ProviderHarness;
afterEach(() => h.close());
const start = async () => {
  h = new ProviderHarness();
  const youhodler = await h.emulator('youhodler', {
    basePath: '/sandbox',
    clientId: 'b8e2f1a0',
    clientSecret: 'cs_live_abc123',
  });
  const tokens = await h.tokens({ yh: youhodler.clientOptions() });
  return { youhodler, tokens };
};

describe('youhodler: request', () => {
  it('posts snake_case JSON credentials to <baseUrl>/oauth/token, keeping the base path, with no auth header', async () => {
    const { youhodler, tokens } = await start();
    await tokens.getToken('yh');
    const [request] = youhodler.tokenRequests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/sandbox/oauth/token');
    expect(request!.query).toEqual({});
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.headers['idempotency-key']).toBeUndefined();
    expect(JSON.parse(request!.body)).toEqual({
      client_id: 'b8e2f1a0',
      client_secret: 'cs_live_abc123',
      grant_type: 'client_credentials',
    });
    expect(Object.keys(JSON.parse(request!.body))).toEqual(['client_id', 'client_secret', 'grant_type']);
  });

  it('uses the production host when no baseUrl is given', () => {
    const strategy = new YouHodlerStrategy();
    expect(strategy.defaultBaseUrl).toBe('https://business-api.youhodler.com');
    expect(strategy.tokenPath).toBe('/oauth/token');
  });

  it('accepts a configured scope, sends none and warns once at boot', async () => {
    h = new ProviderHarness();
    const youhodler = await h.emulator('youhodler');
    const tokens = await h.tokens({ yh: youhodler.clientOptions({ scope: ['wallets:read'] }) });
    await tokens.getToken('yh');
    await tokens.getToken('yh', { forceRefresh: true });
    expect(youhodler.tokenRequests.map((r) => JSON.parse(r.body).scope)).toEqual([undefined, undefined]);
    expect(h.logger.lines.filter((l) => l.level === 'warn' && l.message.includes('"scope" is ignored'))).toHaveLength(
      1,
    );
  });
});

describe('youhodler: token', () => {
  it('reads access_token, token_type and expires_in (issued_token_type is ignored)', async () => {
    const { youhodler, tokens } = await start();
    const token = await tokens.getToken('yh');
    expect(token).toEqual({
      accessToken: youhodler.issuedTokens[0]!.accessToken,
      tokenType: 'Bearer',
      expiresAt: h.clock.now() + 3600_000,
    });
    expect(jwtClaims(token.accessToken)).toMatchObject({ sub: 'b8e2f1a0', exp: (h.clock.now() + 3600_000) / 1000 });
  });
});

describe('youhodler: errors', () => {
  it.each([
    ['invalid_request', 400, 'invalid_request', 'Request is invalid. (capability_scope_mismatch)'],
    ['idempotency_conflict', 409, 'invalid_request', 'Idempotency key conflict. (key_payload_mismatch)'],
    ['not_admissible', 422, 'invalid_request', 'Request is not admissible. (not_applicable)'],
    ['unauthorized', 401, 'invalid_client', 'Client authentication failed. (invalid_client_credentials)'],
  ] as const)('%s (HTTP %i) is %s and not retried', async (name, status, code, description) => {
    const { youhodler, tokens } = await start();
    youhodler.failNext(name, 3);
    const error = await tokenError(tokens.getToken('yh'));
    expect(error).toMatchObject({ client: 'yh', status, code, providerCode: name, description, attempts: 1 });
    expect(youhodler.tokenRequests).toHaveLength(1);
    expect(h.clock.sleeps).toEqual([]);
  });

  it('wrong credentials are invalid_client, and the message holds no secret', async () => {
    const { youhodler, tokens } = await start();
    youhodler.setCredentials({ clientSecret: 'rotated-elsewhere' });
    const error = await tokenError(tokens.getToken('yh'));
    expect(error).toMatchObject({ status: 401, code: 'invalid_client', providerCode: 'unauthorized', attempts: 1 });
    expect(JSON.stringify(error) + error.message).not.toContain('cs_live_abc123');
  });

  it('429 waits details.retry_after_ms, then retries', async () => {
    const { youhodler, tokens } = await start();
    youhodler.failNext({ error: 'rate_limited', retryAfterMs: 1500 });
    const token = await tokens.getToken('yh');
    expect(token.accessToken).toBe(youhodler.issuedTokens[0]!.accessToken);
    expect(h.clock.sleeps).toEqual([1500]);
    expect(youhodler.tokenRequests).toHaveLength(2);
  });

  it('429 with only a Retry-After header (seconds) waits that long', async () => {
    const { youhodler, tokens } = await start();
    youhodler.failNext({
      status: 429,
      body: { code: 'rate_limited', message: 'Too many requests.' },
      headers: { 'retry-after': '2' },
    });
    await tokens.getToken('yh');
    expect(h.clock.sleeps).toEqual([2000]);
  });

  it('429 with both hints waits the larger (Retry-After in seconds vs retry_after_ms)', async () => {
    const { youhodler, tokens } = await start();
    youhodler.failNext({ error: 'rate_limited', retryAfterMs: 2000, retryAfterSeconds: 3 });
    youhodler.failNext({ error: 'rate_limited', retryAfterMs: 4000, retryAfterSeconds: 1 });
    await tokens.getToken('yh');
    expect(h.clock.sleeps).toEqual([3000, 4000]);
  });

  it('429 every time is rate_limited after 3 attempts, with the hint', async () => {
    const { youhodler, tokens } = await start();
    youhodler.failNext({ error: 'rate_limited', retryAfterMs: 500 }, 3);
    const error = await tokenError(tokens.getToken('yh'));
    expect(error).toMatchObject({
      status: 429,
      code: 'rate_limited',
      providerCode: 'rate_limited',
      retryAfterMs: 500,
      attempts: 3,
    });
    expect(h.clock.sleeps).toEqual([500, 500]);
  });

  it('429 asking for longer than maxRetryAfterMs fails at once, and later calls fail fast without a request', async () => {
    const { youhodler, tokens } = await start();
    youhodler.failNext({ error: 'rate_limited', retryAfterMs: 60_000 });
    const error = await tokenError(tokens.getToken('yh'));
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfterMs: 60_000, attempts: 1 });
    h.clock.advance(10_000);
    const again = await tokenError(tokens.getToken('yh'));
    expect(again).toMatchObject({
      code: 'rate_limited',
      providerCode: 'rate_limited',
      attempts: 0,
      retryAfterMs: 50_000,
    });
    expect(youhodler.tokenRequests).toHaveLength(1);
    h.clock.advance(50_000);
    await expect(tokens.getToken('yh')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it.each([
    ['upstream_error', 502, 'server_error'],
    ['temporarily_unavailable', 503, 'temporarily_unavailable'],
  ] as const)('%s (HTTP %i) is retried with backoff and succeeds', async (name, status, code) => {
    const { youhodler, tokens } = await start();
    youhodler.failNext(name, 2);
    await expect(tokens.getToken('yh')).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(youhodler.tokenRequests).toHaveLength(3);
    expect(h.clock.sleeps).toHaveLength(2);

    youhodler.failNext(name, 3);
    const error = await tokenError(tokens.getToken('yh', { forceRefresh: true }));
    expect(error).toMatchObject({ status, code, providerCode: name, attempts: 3 });
  });
});
