import { createPublicKey, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock, startEmulator, type Emulator, type EmulatorName } from '../../lib/testing/index.js';
import { ProviderHarness, tokenError } from './support/provider-harness.js';

let h: ProviderHarness;
afterEach(() => h.close());

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const jsonPost = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const formPost = (body: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body,
});

/** A valid token request for each emulator with default credentials. */
const validRequest: Record<EmulatorName, (e: Emulator) => [string, RequestInit]> = {
  oauth2: (e) => [
    e.tokenUrl,
    formPost('grant_type=client_credentials', { authorization: basic('test-client', 'test-secret') }),
  ],
  youhodler: (e) => [
    e.tokenUrl,
    jsonPost({ client_id: 'test-client', client_secret: 'test-secret', grant_type: 'client_credentials' }),
  ],
  palisade: (e) => [e.tokenUrl, jsonPost({ clientId: 'test-client', clientSecret: 'test-secret' })],
  firstvision: (e) => [
    `${e.tokenUrl}?grant_type=client_credentials&scope=edit`,
    { method: 'POST', headers: { authorization: basic('test-client', 'test-secret') } },
  ],
  'alternative-payments': (e) => [
    e.tokenUrl,
    formPost('grant_type=client_credentials', { authorization: basic('test-client', 'test-secret') }),
  ],
};

async function call(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('emulators: the token endpoint checks the request shape as the provider would', () => {
  it.each([
    [
      'youhodler',
      (e: Emulator) => [
        e.tokenUrl,
        jsonPost({
          client_id: 'test-client',
          client_secret: 'test-secret',
          grant_type: 'client_credentials',
          scope: 'x',
        }),
      ],
      400,
      { code: 'invalid_request', details: { reason: 'unknown_field:scope' } },
    ],
    [
      'youhodler',
      (e: Emulator) => [
        e.tokenUrl,
        formPost('client_id=test-client&client_secret=test-secret&grant_type=client_credentials'),
      ],
      400,
      { code: 'invalid_request', details: { reason: 'unsupported_content_type' } },
    ],
    [
      'youhodler',
      (e: Emulator) => [
        e.tokenUrl,
        jsonPost({ client_id: 'test-client', client_secret: 'test-secret', grant_type: 'password' }),
      ],
      400,
      { details: { reason: 'unsupported_grant_type' } },
    ],
    [
      'palisade',
      (e: Emulator) => [e.tokenUrl, jsonPost({ client_id: 'test-client', client_secret: 'test-secret' })],
      400,
      { code: 3, details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest' }] },
    ],
    [
      'palisade',
      (e: Emulator) => [
        e.tokenUrl,
        jsonPost({ clientId: 'test-client', clientSecret: 'test-secret', grant_type: 'client_credentials' }),
      ],
      400,
      { code: 3, message: 'invalid request: unknown field "grant_type"' },
    ],
    [
      'palisade',
      (e: Emulator) => [
        e.tokenUrl,
        jsonPost(
          { clientId: 'test-client', clientSecret: 'test-secret' },
          { authorization: basic('test-client', 'test-secret') },
        ),
      ],
      400,
      { code: 3 },
    ],
    [
      'firstvision',
      (e: Emulator) => [
        `${e.tokenUrl}?grant_type=client_credentials&scope=edit`,
        {
          method: 'POST',
          headers: { authorization: basic('test-client', 'test-secret'), 'content-type': 'application/json' },
          body: '{}',
        },
      ],
      400,
      [{ errorCode: '240400', 'invalid-params': ['Request body should be empty'] }],
    ],
    [
      'firstvision',
      (e: Emulator) => [
        `${e.tokenUrl}?grant_type=client_credentials`,
        { method: 'POST', headers: { authorization: basic('test-client', 'test-secret') } },
      ],
      400,
      [{ 'invalid-params': ['scope is required'] }],
    ],
    [
      'firstvision',
      (e: Emulator) => [`${e.tokenUrl}?grant_type=client_credentials&scope=edit`, { method: 'POST' }],
      401,
      [{ errorCode: '240101', status: 401, title: 'Unauthorized', source: 'AGT' }],
    ],
    [
      'alternative-payments',
      (e: Emulator) => [e.tokenUrl, formPost('grant_type=client_credentials')],
      403,
      { error: 'invalid_credentials' },
    ],
    [
      'alternative-payments',
      (e: Emulator) => [
        e.tokenUrl,
        formPost('grant_type=client_credentials&scope=x', { authorization: basic('test-client', 'test-secret') }),
      ],
      400,
      { message: 'Unexpected parameter scope' },
    ],
    [
      'alternative-payments',
      (e: Emulator) => [
        e.tokenUrl,
        jsonPost({ grant_type: 'client_credentials' }, { authorization: basic('test-client', 'test-secret') }),
      ],
      400,
      { error: 'bad_request' },
    ],
    [
      'oauth2',
      (e: Emulator) => [
        e.tokenUrl,
        formPost('grant_type=client_credentials&client_id=test-client&client_secret=test-secret', {
          authorization: basic('test-client', 'test-secret'),
        }),
      ],
      400,
      { error: 'invalid_request' },
    ],
    [
      'oauth2',
      (e: Emulator) => [
        e.tokenUrl,
        formPost('grant_type=password', { authorization: basic('test-client', 'test-secret') }),
      ],
      400,
      { error: 'unsupported_grant_type' },
    ],
    [
      'oauth2',
      (e: Emulator) => [
        e.tokenUrl,
        formPost('grant_type=client_credentials', { authorization: basic('test-client', 'nope') }),
      ],
      401,
      { error: 'invalid_client' },
    ],
  ] as Array<[EmulatorName, (e: Emulator) => [string, RequestInit], number, unknown]>)(
    '%s answers a wrong request (%#) in its own error format, with no token',
    async (name, build, status, body) => {
      h = new ProviderHarness();
      const emulator = await h.emulator(name);
      const answer = await call(...build(emulator));
      expect(answer.status).toBe(status);
      expect(answer.json).toMatchObject(body as object);
      expect(emulator.issuedTokens).toHaveLength(0);
    },
  );

  it.each(['oauth2', 'youhodler', 'palisade', 'firstvision', 'alternative-payments'] as const)(
    '%s: GET on the token path is 405, an unknown path 404',
    async (name) => {
      h = new ProviderHarness();
      const emulator = await h.emulator(name);
      expect((await call(emulator.tokenUrl)).status).toBe(405);
      expect((await call(`${emulator.baseUrl}/nowhere`)).status).toBe(404);
      expect(emulator.requests.map((r) => r.kind)).toEqual(['token', 'other']);
    },
  );

  it('firstvision json-body refuses the basic-query form, and the reverse', async () => {
    h = new ProviderHarness();
    const json = await h.emulator('firstvision', { variant: 'json-body' });
    expect((await call(...validRequest.firstvision(json))).status).toBe(400);
    const ok = await call(
      json.tokenUrl,
      jsonPost({
        grant_type: 'client_credentials',
        scope: 'edit',
        client_id: 'test-client',
        client_secret: 'test-secret',
      }),
    );
    expect(ok.status).toBe(200);
    const query = await h.emulator('firstvision');
    expect(
      (
        await call(
          query.tokenUrl,
          jsonPost({
            grant_type: 'client_credentials',
            scope: 'edit',
            client_id: 'test-client',
            client_secret: 'test-secret',
          }),
        )
      ).status,
    ).toBe(400);
  });
});

describe('emulators: tokens and the protected resource', () => {
  it.each(['oauth2', 'youhodler', 'palisade', 'firstvision', 'alternative-payments'] as const)(
    '%s: the resource accepts only live tokens (401 without, unknown, revoked or expired)',
    async (name) => {
      h = new ProviderHarness();
      const emulator = await h.emulator(name, { basePath: '/api' });
      const issued = await call(...validRequest[name](emulator));
      expect(issued.status).toBe(200);
      const token = emulator.issuedTokens[0]!.accessToken;
      const withToken = (t: string) => call(emulator.resourceUrl, { headers: { authorization: `Bearer ${t}` } });

      expect(await withToken(token)).toMatchObject({
        status: 200,
        json: { ok: true, provider: name, clientId: 'test-client', path: '/api/ping' },
      });
      const missing = await call(emulator.resourceUrl);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect((await withToken('forged')).status).toBe(401);

      h.clock.advance(3600_000);
      expect((await withToken(token)).status).toBe(401);
      expect(emulator.isLive(token)).toBe(false);

      await call(...validRequest[name](emulator));
      const second = emulator.issuedTokens[1]!.accessToken;
      expect(emulator.revoke(second)).toBe(1);
      expect((await withToken(second)).status).toBe(401);
      expect(emulator.resourceRequests).toHaveLength(5);
    },
  );

  it('/echo takes any method and echoes the body', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('palisade');
    await call(...validRequest.palisade(emulator));
    const answer = await call(`${emulator.baseUrl}/echo`, {
      method: 'PUT',
      body: 'hello',
      headers: { authorization: `Bearer ${emulator.issuedTokens[0]!.accessToken}` },
    });
    expect(answer).toMatchObject({ status: 200, json: { method: 'PUT', body: 'hello', path: '/echo' } });
  });

  it('JWTs are RS256-signed by the key served at /.well-known/jwks.json', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('youhodler');
    await call(...validRequest.youhodler(emulator));
    const [header, claims, signature] = emulator.issuedTokens[0]!.accessToken.split('.');
    const jwks = (await call(`${emulator.baseUrl}/.well-known/jwks.json`)).json as {
      keys: Array<Record<string, string>>;
    };
    expect(jwks).toEqual(emulator.jwks());
    const key = createPublicKey({ key: jwks.keys[0]!, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), key, Buffer.from(signature!, 'base64url'))).toBe(true);
  });

  it.each([
    ['seconds', 600],
    ['string', '600'],
    ['absolute', Date.UTC(2026, 0, 1) / 1000 + 600],
    ['absolute-ms', Date.UTC(2026, 0, 1) + 600_000],
    ['milliseconds', 600_000],
    ['missing', undefined],
  ] as const)('writes expires_in as %s', async (form, expected) => {
    h = new ProviderHarness();
    const emulator = await h.emulator('oauth2', { expiresIn: form, tokenLifetimeSeconds: 600 });
    const answer = await call(...validRequest.oauth2(emulator));
    expect((answer.json as Record<string, unknown>).expires_in).toEqual(expected);
  });

  it('setCredentials with keepPrevious accepts the old secret through a grace period', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('youhodler');
    emulator.setCredentials({ clientSecret: 'next', keepPrevious: true });
    expect((await call(...validRequest.youhodler(emulator))).status).toBe(200);
    emulator.setCredentials({ clientSecret: 'after-next' });
    expect((await call(...validRequest.youhodler(emulator))).status).toBe(401);
    expect(emulator.clientSecret).toBe('after-next');
  });
});

describe('emulators: scripted failures through the library', () => {
  it('failNext on the resource answers in the provider format, then recovers', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('palisade');
    emulator.failNext('unavailable', { on: 'resource' });
    await call(...validRequest.palisade(emulator));
    const headers = { authorization: `Bearer ${emulator.issuedTokens[0]!.accessToken}` };
    expect(await call(emulator.resourceUrl, { headers })).toMatchObject({ status: 503, json: { code: 14 } });
    expect((await call(emulator.resourceUrl, { headers })).status).toBe(200);
  });

  it('a dropped connection is a network_error, retried', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('youhodler');
    const tokens = await h.tokens({ yh: emulator.clientOptions() });
    emulator.failNext({ drop: true });
    await expect(tokens.getToken('yh')).resolves.toMatchObject({ tokenType: 'Bearer' });
    emulator.failNext({ drop: true }, 3);
    await expect(tokens.getToken('yh', { forceRefresh: true })).rejects.toMatchObject({
      code: 'network_error',
      attempts: 3,
    });
  });

  it('latency beyond timeoutMs is a timeout', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('alternative-payments', { latencyMs: 300 });
    const tokens = await h.tokens({ ap: { ...emulator.clientOptions(), timeoutMs: 50, retry: { maxAttempts: 1 } } });
    await expect(tokens.getToken('ap')).rejects.toMatchObject({ code: 'timeout', attempts: 1 });
    emulator.setLatency(0);
    await expect(tokens.getToken('ap')).resolves.toMatchObject({ tokenType: 'bearer' });
  });

  it('an HTML error page as a raw reply reaches the error as a redacted snippet', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('firstvision');
    const tokens = await h.tokens({ fv: emulator.clientOptions() });
    emulator.failNext(
      {
        status: 502,
        body: '<html><body>Bad gateway test-secret</body></html>',
        headers: { 'content-type': 'text/html' },
      },
      3,
    );
    const error = await tokenError(tokens.getToken('fv'));
    expect(error).toMatchObject({ status: 502, code: 'server_error', attempts: 3 });
    expect(error.bodySnippet).toContain('Bad gateway');
    expect(error.bodySnippet).not.toContain('test-secret');
  });

  it('a 200 without a token is invalid_response', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('palisade');
    const tokens = await h.tokens({ p: emulator.clientOptions() });
    emulator.failNext({ status: 200, body: { tokenType: 'Bearer' } });
    await expect(tokens.getToken('p')).rejects.toMatchObject({ code: 'invalid_response', status: 200 });
  });

  it('reset forgets requests and pending failures', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('youhodler');
    emulator.failNext('upstream_error', 5);
    await call(...validRequest.youhodler(emulator));
    emulator.reset();
    expect(emulator.requests).toEqual([]);
    expect((await call(...validRequest.youhodler(emulator))).status).toBe(200);
  });
});

describe('emulators: the plain RFC 6749 server', () => {
  it('works with the oauth2 strategy, basic or post, and checks scopes', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('oauth2', { scopes: ['invoices:read', 'invoices:write'] });
    const tokens = await h.tokens({
      basic: emulator.clientOptions(),
      post: emulator.clientOptions({ authMethod: 'client_secret_post', scope: 'invoices:read' }),
      wrong: emulator.clientOptions({ scope: 'admin' }),
    });
    await expect(tokens.getToken('basic')).resolves.toMatchObject({ scope: 'invoices:read invoices:write' });
    await expect(tokens.getToken('post')).resolves.toMatchObject({ scope: 'invoices:read' });
    await expect(tokens.getToken('wrong')).rejects.toMatchObject({ code: 'invalid_scope', status: 400 });
    expect(emulator.tokenRequests.map((r) => r.form?.client_id)).toEqual([undefined, 'test-client', undefined]);
  });
});

describe('startEmulator', () => {
  it('rejects an unknown name, and close() may be called twice', async () => {
    await expect(startEmulator('okta' as EmulatorName)).rejects.toThrow(/unknown emulator "okta"/);
    const emulator = await startEmulator('youhodler', { clock: new FakeClock() });
    await emulator.close();
    await expect(emulator.close()).resolves.toBeUndefined();
    h = new ProviderHarness();
  });

  it('clientOptions() configure each strategy to talk to its emulator', async () => {
    h = new ProviderHarness();
    const names = ['oauth2', 'youhodler', 'palisade', 'firstvision', 'alternative-payments'] as const;
    const emulators = await Promise.all(names.map((n) => h.emulator(n, { basePath: '/sandbox' })));
    expect(emulators.map((e) => e.clientOptions().baseUrl)).toEqual(emulators.map((e) => e.baseUrl));
    const tokens = await h.tokens(Object.fromEntries(emulators.map((e) => [e.name, e.clientOptions()])));
    for (const e of emulators) {
      const token = await tokens.getToken(e.name);
      expect(e.isLive(token.accessToken)).toBe(true);
    }
  });
});
