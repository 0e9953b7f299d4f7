import { afterEach, describe, expect, it } from '@jest/globals';
import { OAuthConfigError } from '../../lib/index.js';
import { FirstVisionStrategy } from '../../lib/strategies/firstvision.strategy.js';
import { ProviderHarness, jwtClaims, tokenError } from './support/provider-harness.js';

let h: ProviderHarness;
afterEach(() => h.close());
const start = async (variant: 'basic-query' | 'json-body' = 'basic-query') => {
  h = new ProviderHarness();
  const firstvision = await h.emulator('firstvision', {
    basePath: '/sandbox',
    variant,
    clientId: 'POC_NAB_Dev',
    clientSecret: 's3cr3t',
  });
  const tokens = await h.tokens({ fv: firstvision.clientOptions({ scope: ['read', 'edit'] }) });
  return { firstvision, tokens };
};

describe('firstvision: request', () => {
  it('basic-query: Basic header, grant_type and the space-separated (sorted) scope in the query, EMPTY body', async () => {
    const { firstvision, tokens } = await start();
    await tokens.getToken('fv');
    const [request] = firstvision.tokenRequests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/sandbox/v1/api/oauth/token');
    expect(request!.url).toBe('/sandbox/v1/api/oauth/token?grant_type=client_credentials&scope=edit%20read');
    expect(request!.query).toEqual({ grant_type: 'client_credentials', scope: 'edit read' });
    expect(request!.body).toBe('');
    expect(request!.headers['content-type']).toBeUndefined();
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('POC_NAB_Dev:s3cr3t').toString('base64')}`);
  });

  it('json-body: the same path, JSON {grant_type, scope, client_id, client_secret}, no query, no auth header', async () => {
    const { firstvision, tokens } = await start('json-body');
    await tokens.getToken('fv');
    const [request] = firstvision.tokenRequests;
    expect(request!.url).toBe('/sandbox/v1/api/oauth/token');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBeUndefined();
    expect(JSON.parse(request!.body)).toEqual({
      grant_type: 'client_credentials',
      scope: 'edit read',
      client_id: 'POC_NAB_Dev',
      client_secret: 's3cr3t',
    });
  });

  it('a per-call scope replaces the configured one', async () => {
    const { firstvision, tokens } = await start();
    await tokens.getToken('fv', { scope: 'view' });
    expect(firstvision.tokenRequests[0]!.query.scope).toBe('view');
  });

  it('keeps a query already in tokenUrl', () => {
    const request = new FirstVisionStrategy().buildRequest({
      client: 'fv',
      options: { strategy: 'firstvision', clientId: 'a', clientSecret: 'b', scope: 'x' },
      tokenUrl: 'https://tenant.example/sandbox/v1/api/oauth/token?tenant=nab',
      clientId: 'a',
      clientSecret: 'b',
      scope: ['x', 'y'],
    });
    expect(request.url).toBe(
      'https://tenant.example/sandbox/v1/api/oauth/token?tenant=nab&grant_type=client_credentials&scope=x%20y',
    );
    expect(request.body).toBeUndefined();
  });

  it('has no default host: baseUrl or tokenUrl is required', async () => {
    h = new ProviderHarness();
    const boot = h.tokens({ fv: { strategy: 'firstvision', clientId: 'a', clientSecret: 'b', scope: 'edit' } });
    await expect(boot).rejects.toThrow(OAuthConfigError);
    await expect(boot).rejects.toThrow(/"fv".*"baseUrl"/);
  });

  it.each([
    [{ scope: undefined }, 'scope'],
    [{ scope: [] as string[] }, 'scope'],
    [{ variant: 'form' as 'json-body' }, 'variant'],
    [{ basicEncoding: 'raw' as const, clientId: 'id:with-colon' }, 'clientId'],
  ])('rejects %j at boot, naming the field', async (override, field) => {
    h = new ProviderHarness();
    const options = {
      strategy: 'firstvision' as const,
      baseUrl: 'https://stg34.visionplus.io/sandbox',
      clientId: 'a',
      clientSecret: 'b',
      scope: 'edit',
      ...override,
    };
    const error = await h.tokens({ fv: options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect((error as OAuthConfigError).message).toContain(`"${field}"`);
    expect((error as OAuthConfigError).message).toContain('"fv"');
  });
});

describe('firstvision: token', () => {
  it('reads an absolute expires_in (epoch seconds equal to the JWT exp, as in the seed)', async () => {
    const { firstvision, tokens } = await start();
    const token = await tokens.getToken('fv');
    const exp = jwtClaims(token.accessToken).exp as number;
    expect(firstvision.issuedTokens[0]!.expiresAt).toBe(exp * 1000);
    expect(token).toEqual({
      accessToken: firstvision.issuedTokens[0]!.accessToken,
      tokenType: 'Bearer',
      expiresAt: exp * 1000,
    });
    expect(exp * 1000).toBe(h.clock.now() + 3600_000);
  });

  it.each(['string', 'seconds', 'absolute-ms', 'milliseconds', 'missing'] as const)(
    'expires_in as %s ends at the JWT exp',
    async (form) => {
      const { firstvision, tokens } = await start();
      firstvision.setExpiresIn(form).setTokenLifetime(1800);
      const token = await tokens.getToken('fv');
      expect(token.expiresAt).toBe(h.clock.now() + 1800_000);
      expect(token.expiresAt).toBe((jwtClaims(token.accessToken).exp as number) * 1000);
    },
  );
});

describe('firstvision: errors (JSON array)', () => {
  it('wrong credentials: 401 errorCode 240101 is invalid_client, not retried', async () => {
    const { firstvision, tokens } = await start();
    firstvision.setCredentials({ clientSecret: 'other' });
    const error = await tokenError(tokens.getToken('fv'));
    expect(error).toMatchObject({
      client: 'fv',
      status: 401,
      code: 'invalid_client',
      providerCode: '240101',
      description: 'Invalid client credentials or scope',
      attempts: 1,
    });
    expect(error.message).not.toContain('s3cr3t');
    expect(firstvision.tokenRequests).toHaveLength(1);
  });

  it('a scope the client may not have is 240101 too', async () => {
    h = new ProviderHarness();
    const firstvision = await h.emulator('firstvision', { scopes: ['edit'] });
    const tokens = await h.tokens({ fv: firstvision.clientOptions({ scope: 'admin' }) });
    await expect(tokens.getToken('fv')).rejects.toMatchObject({ code: 'invalid_client', providerCode: '240101' });
  });

  it('the seed error body, verbatim', async () => {
    const { firstvision, tokens } = await start();
    firstvision.failNext({
      status: 401,
      body: [
        {
          detail: 'Please refer to invalid-params for error details',
          errorCode: '240101',
          instance: '/v1/api/oauth/token',
          'invalid-params': ['Invalid client credentials or scope'],
          source: 'AGT',
          status: 401,
          title: 'Unauthorized',
        },
      ],
    });
    await expect(tokens.getToken('fv')).rejects.toMatchObject({
      status: 401,
      code: 'invalid_client',
      providerCode: '240101',
      description: 'Invalid client credentials or scope',
    });
  });

  it('400 is invalid_request, not retried', async () => {
    const { firstvision, tokens } = await start();
    firstvision.failNext('bad_request', 3);
    const error = await tokenError(tokens.getToken('fv'));
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', providerCode: '240400', attempts: 1 });
  });

  it.each([
    ['rate_limited', 429, 'rate_limited'],
    ['server_error', 500, 'server_error'],
    ['service_unavailable', 503, 'temporarily_unavailable'],
  ] as const)('%s (HTTP %i) is retried, then %s', async (name, status, code) => {
    const { firstvision, tokens } = await start();
    firstvision.failNext(name);
    await expect(tokens.getToken('fv')).resolves.toMatchObject({ tokenType: 'Bearer' });
    firstvision.failNext(name, 3);
    const error = await tokenError(tokens.getToken('fv', { forceRefresh: true }));
    expect(error).toMatchObject({ status, code, attempts: 3 });
    expect(firstvision.tokenRequests).toHaveLength(5);
  });
});
