import { afterEach, describe, expect, it } from '@jest/globals';
import { PalisadeStrategy } from '../../lib/strategies/palisade.strategy.js';
import { ProviderHarness, jwtClaims, tokenError } from './support/provider-harness.js';

let h: ProviderHarness;
afterEach(() => h.close());
const start = async () => {
  h = new ProviderHarness();
  const palisade = await h.emulator('palisade', {
    basePath: '/sandbox',
    clientId: 'jhYMYU4o',
    clientSecret: 'zjI4XChs',
  });
  const tokens = await h.tokens({ palisade: palisade.clientOptions() });
  return { palisade, tokens };
};

describe('palisade: request', () => {
  it('posts camelCase JSON {clientId, clientSecret} to <baseUrl>/v2/credentials/oauth/token: no grant_type, no auth header', async () => {
    const { palisade, tokens } = await start();
    await tokens.getToken('palisade');
    const [request] = palisade.tokenRequests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/sandbox/v2/credentials/oauth/token');
    expect(request!.query).toEqual({});
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBeUndefined();
    expect(JSON.parse(request!.body)).toEqual({ clientId: 'jhYMYU4o', clientSecret: 'zjI4XChs' });
  });

  it('uses the production host when no baseUrl is given', () => {
    const strategy = new PalisadeStrategy();
    expect(strategy.defaultBaseUrl).toBe('https://api.palisade.co');
    expect(strategy.tokenPath).toBe('/v2/credentials/oauth/token');
  });

  it('accepts a configured scope, sends none and warns once at boot', async () => {
    h = new ProviderHarness();
    const palisade = await h.emulator('palisade');
    const tokens = await h.tokens({ palisade: palisade.clientOptions({ scope: 'balances:read' }) });
    await tokens.getToken('palisade');
    expect(Object.keys(JSON.parse(palisade.tokenRequests[0]!.body))).toEqual(['clientId', 'clientSecret']);
    expect(h.logger.lines.filter((l) => l.level === 'warn' && l.message.includes('"scope" is ignored'))).toHaveLength(
      1,
    );
  });
});

describe('palisade: token', () => {
  it('reads the camelCase answer; the token is an RS256 JWT expiring with expiresIn', async () => {
    const { palisade, tokens } = await start();
    const token = await tokens.getToken('palisade');
    expect(token).toEqual({
      accessToken: palisade.issuedTokens[0]!.accessToken,
      tokenType: 'Bearer',
      scope: 'balances:read',
      expiresAt: h.clock.now() + 3600_000,
    });
    const header = JSON.parse(Buffer.from(token.accessToken.split('.')[0]!, 'base64url').toString());
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(jwtClaims(token.accessToken)).toMatchObject({ gty: 'client-credentials', azp: 'jhYMYU4o' });
  });
});

describe('palisade: errors (google.rpc.Status)', () => {
  it.each([
    ['invalid_argument', 400, '3', 'invalid_request'],
    ['unauthenticated', 401, '16', 'invalid_client'],
    ['permission_denied', 403, '7', 'invalid_client'],
    ['not_found', 404, '5', 'invalid_request'],
  ] as const)('%s (HTTP %i, gRPC %s) is %s, not retried', async (name, status, grpc, code) => {
    const { palisade, tokens } = await start();
    palisade.failNext(name, 3);
    const error = await tokenError(tokens.getToken('palisade'));
    expect(error).toMatchObject({ client: 'palisade', status, code, providerCode: grpc, attempts: 1 });
    expect(error.description).toMatch(/\(([A-Z_]+)\)$/);
    expect(palisade.tokenRequests).toHaveLength(1);
  });

  it('wrong credentials: 401 with gRPC code 16 (UNAUTHENTICATED) kept as providerCode', async () => {
    const { palisade, tokens } = await start();
    palisade.setCredentials({ clientSecret: 'another' });
    const error = await tokenError(tokens.getToken('palisade'));
    expect(error).toMatchObject({
      status: 401,
      code: 'invalid_client',
      providerCode: '16',
      description: 'invalid client credentials (UNAUTHENTICATED)',
    });
    expect(error.message).not.toContain('zjI4XChs');
  });

  it.each([
    ['internal', 500, '13', 'server_error'],
    ['unavailable', 503, '14', 'temporarily_unavailable'],
    ['resource_exhausted', 429, '8', 'rate_limited'],
  ] as const)('default response %s (HTTP %i, gRPC %s) is retried, then %s', async (name, status, grpc, code) => {
    const { palisade, tokens } = await start();
    palisade.failNext(name);
    await expect(tokens.getToken('palisade')).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(palisade.tokenRequests).toHaveLength(2);

    palisade.failNext(name, 3);
    const error = await tokenError(tokens.getToken('palisade', { forceRefresh: true }));
    expect(error).toMatchObject({ status, code, providerCode: grpc, attempts: 3 });
  });

  it('a Status without details still gives its code and message', async () => {
    const { palisade, tokens } = await start();
    palisade.failNext({ status: 403, body: { code: 7, message: 'organization suspended' } });
    const error = await tokenError(tokens.getToken('palisade'));
    expect(error).toMatchObject({
      status: 403,
      code: 'invalid_client',
      providerCode: '7',
      description: 'organization suspended',
    });
  });
});
