import { afterEach, describe, expect, it } from '@jest/globals';
import { OAuthConfigError } from '../../lib/index.js';
import { AlternativePaymentsStrategy } from '../../lib/strategies/alternative-payments.strategy.js';
import { ProviderHarness, tokenError } from './support/provider-harness.js';

let h: ProviderHarness;
afterEach(() => h.close());
const start = async (emulatorOptions: { rateLimitPerSecond?: number | false } = {}) => {
  h = new ProviderHarness();
  const ap = await h.emulator('alternative-payments', {
    basePath: '/v1',
    clientId: 'merchant-7',
    clientSecret: 'p@ss word',
    ...emulatorOptions,
  });
  const tokens = await h.tokens({ ap: ap.clientOptions() });
  return { ap, tokens };
};

describe('alternative-payments: request', () => {
  it('posts form grant_type=client_credentials with a Basic header to <baseUrl>/oauth/token', async () => {
    const { ap, tokens } = await start();
    await tokens.getToken('ap');
    const [request] = ap.tokenRequests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/v1/oauth/token');
    expect(request!.query).toEqual({});
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.body).toBe('grant_type=client_credentials');
    // RFC 6749 §2.3.1 form-encodes id and secret before Base64 (the default basicEncoding).
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('merchant-7:p%40ss+word').toString('base64')}`);
  });

  it("basicEncoding 'raw' sends id:secret as they are", async () => {
    h = new ProviderHarness();
    const ap = await h.emulator('alternative-payments', { clientSecret: 'p@ss word', basicEncoding: 'raw' });
    const tokens = await h.tokens({ ap: ap.clientOptions({ basicEncoding: 'raw' }) });
    await tokens.getToken('ap');
    expect(ap.tokenRequests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('test-client:p@ss word').toString('base64')}`,
    );
  });

  it("basicEncoding 'raw' with a ':' in the client id is a boot error naming clientId", async () => {
    h = new ProviderHarness();
    const error = await h
      .tokens({ ap: { strategy: 'alternative-payments', clientId: 'a:b', clientSecret: 's', basicEncoding: 'raw' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect((error as Error).message).toMatch(/"ap".*"clientId"/);
  });

  it('uses the production host when no baseUrl is given', () => {
    expect(new AlternativePaymentsStrategy().defaultBaseUrl).toBe('https://public-api.alternativepayments.io');
  });

  it('accepts a configured scope, sends none and warns once at boot', async () => {
    h = new ProviderHarness();
    const ap = await h.emulator('alternative-payments');
    const tokens = await h.tokens({ ap: ap.clientOptions({ scope: 'payments' }) });
    await tokens.getToken('ap');
    expect(ap.tokenRequests[0]!.body).toBe('grant_type=client_credentials');
    expect(h.logger.lines.filter((l) => l.level === 'warn' && l.message.includes('"scope" is ignored'))).toHaveLength(
      1,
    );
  });
});

describe('alternative-payments: token', () => {
  it("keeps the lowercase token_type 'bearer'; the opaque token lives expires_in seconds", async () => {
    const { ap, tokens } = await start();
    const token = await tokens.getToken('ap');
    expect(token).toEqual({
      accessToken: ap.issuedTokens[0]!.accessToken,
      tokenType: 'bearer',
      expiresAt: h.clock.now() + 3600_000,
    });
    expect(token.accessToken).toMatch(/^[0-9a-f]{56}$/);
  });
});

describe('alternative-payments: errors', () => {
  it('bad credentials: 403 is invalid_client, not retried, and names no secret', async () => {
    const { ap, tokens } = await start();
    ap.setCredentials({ clientSecret: 'new' });
    const error = await tokenError(tokens.getToken('ap'));
    expect(error).toMatchObject({
      client: 'ap',
      status: 403,
      code: 'invalid_client',
      providerCode: 'invalid_credentials',
      description: 'Invalid credentials',
      attempts: 1,
    });
    expect(ap.tokenRequests).toHaveLength(1);
    expect(error.message).not.toContain('p@ss word');
  });

  it('a 403 body of other strings still reads as invalid_client', async () => {
    const { ap, tokens } = await start();
    ap.failNext({ status: 403, body: { message: 'Forbidden' } });
    await expect(tokens.getToken('ap')).rejects.toMatchObject({
      status: 403,
      code: 'invalid_client',
      description: 'Forbidden',
    });
  });

  it('429 (more than 5 requests/s per key) waits Retry-After, then succeeds', async () => {
    const { ap, tokens } = await start();
    for (let i = 0; i < 5; i++) await tokens.getToken('ap', { forceRefresh: true });
    expect(h.clock.sleeps).toEqual([]);
    await tokens.getToken('ap', { forceRefresh: true });
    expect(h.clock.sleeps).toEqual([1000]);
    expect(ap.tokenRequests).toHaveLength(7);
  });

  it('429 every time is rate_limited after 3 attempts', async () => {
    const { ap, tokens } = await start({ rateLimitPerSecond: false });
    ap.failNext('rate_limited', 3);
    const error = await tokenError(tokens.getToken('ap'));
    expect(error).toMatchObject({
      status: 429,
      code: 'rate_limited',
      providerCode: 'rate_limited',
      retryAfterMs: 1000,
      attempts: 3,
    });
  });

  it.each([
    ['server_error', 500, 'server_error'],
    ['service_unavailable', 503, 'temporarily_unavailable'],
  ] as const)('%s (HTTP %i) is retried, then %s', async (name, status, code) => {
    const { ap, tokens } = await start({ rateLimitPerSecond: false });
    ap.failNext(name, 3);
    const error = await tokenError(tokens.getToken('ap'));
    expect(error).toMatchObject({ status, code, attempts: 3 });
  });
});
