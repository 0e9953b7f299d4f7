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

/** A valid token request for each emulator, with the default credentials unless others are given. */
const validRequest: Record<EmulatorName, (e: Emulator, id?: string, secret?: string) => [string, RequestInit]> = {
  oauth2: (e, id = 'test-client', secret = 'test-secret') => [
    e.tokenUrl,
    formPost('grant_type=client_credentials', { authorization: basic(id, secret) }),
  ],
  youhodler: (e, id = 'test-client', secret = 'test-secret') => [
    e.tokenUrl,
    jsonPost({ client_id: id, client_secret: secret, grant_type: 'client_credentials' }),
  ],
  palisade: (e, id = 'test-client', secret = 'test-secret') => [
    e.tokenUrl,
    jsonPost({ clientId: id, clientSecret: secret }),
  ],
  firstvision: (e, id = 'test-client', secret = 'test-secret') => [
    `${e.tokenUrl}?grant_type=client_credentials&scope=edit`,
    { method: 'POST', headers: { authorization: basic(id, secret) } },
  ],
  'alternative-payments': (e, id = 'test-client', secret = 'test-secret') => [
    e.tokenUrl,
    formPost('grant_type=client_credentials', { authorization: basic(id, secret) }),
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

describe('emulators: more clients than one (registerClient)', () => {
  const refusal: Record<EmulatorName, number> = {
    oauth2: 401,
    youhodler: 401,
    palisade: 401,
    firstvision: 401,
    'alternative-payments': 403,
  };

  it.each(['oauth2', 'youhodler', 'palisade', 'firstvision', 'alternative-payments'] as const)(
    '%s: a registered client gets its own token, its wrong secret is refused, the own client still works',
    async (name) => {
      h = new ProviderHarness();
      const emulator = await h.emulator(name);
      emulator.registerClient({ clientId: 'tenant-b', clientSecret: 'secret-b' });

      expect((await call(...validRequest[name](emulator, 'tenant-b', 'secret-b'))).status).toBe(200);
      const wrong = await call(...validRequest[name](emulator, 'tenant-b', 'test-secret'));
      expect(wrong.status).toBe(refusal[name]);
      expect((await call(...validRequest[name](emulator))).status).toBe(200);

      expect(emulator.issuedTokens.map((t) => t.clientId)).toEqual(['tenant-b', 'test-client']);
      expect(emulator.tokenRequests.map((r) => r.clientId)).toEqual(['tenant-b', undefined, 'test-client']);
      const [b, own] = emulator.issuedTokens.map((t) => t.accessToken);
      const ping = (token: string) => call(emulator.resourceUrl, { headers: { authorization: `Bearer ${token}` } });
      expect(await ping(b!)).toMatchObject({ status: 200, json: { clientId: 'tenant-b' } });
      expect(await ping(own!)).toMatchObject({ status: 200, json: { clientId: 'test-client' } });
      expect(emulator.resourceRequests.map((r) => r.clientId)).toEqual(['tenant-b', 'test-client']);
      expect(emulator.clientId).toBe('test-client');
    },
  );

  it('oauth2 through the module: each client its own token, by client_secret_basic and client_secret_post', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('oauth2', { scopes: ['payments:read'] });
    emulator
      .registerClient({ clientId: 'merchant-a', clientSecret: 'secret-a' })
      .registerClient({ clientId: 'merchant-b', clientSecret: 'secret-b' });
    const tokens = await h.tokens({
      own: emulator.clientOptions(),
      a: emulator.clientOptions({ clientId: 'merchant-a', clientSecret: 'secret-a' }),
      b: emulator.clientOptions({ clientId: 'merchant-b', clientSecret: 'secret-b', authMethod: 'client_secret_post' }),
      wrong: emulator.clientOptions({ clientId: 'merchant-b', clientSecret: 'secret-a', retry: { maxAttempts: 1 } }),
    });
    const issued = await Promise.all(['a', 'b', 'own'].map((name) => tokens.getToken(name)));
    expect(issued.map((t) => emulator.issuedTokens.find((i) => i.accessToken === t.accessToken)?.clientId)).toEqual([
      'merchant-a',
      'merchant-b',
      'test-client',
    ]);
    await expect(tokens.getToken('wrong')).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
    expect(emulator.tokenRequests.find((r) => r.clientId === 'merchant-b')?.form).toMatchObject({
      client_id: 'merchant-b',
    });
  });

  it("resourcePath serves a client's own resource, which takes that client's tokens only", async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('oauth2', { basePath: '/partner' });
    emulator
      .registerClient({ clientId: 'merchant-a', clientSecret: 'secret-a', resourcePath: 'merchants/acct-1/' })
      .registerClient({ clientId: 'merchant-b', clientSecret: 'secret-b', resourcePath: '/merchants/acct-2' });
    await call(...validRequest.oauth2(emulator, 'merchant-a', 'secret-a'));
    await call(...validRequest.oauth2(emulator, 'merchant-b', 'secret-b'));
    const [a, b] = emulator.issuedTokens.map((t) => `Bearer ${t.accessToken}`);
    const account = (n: number, path = 'ping') => `${emulator.baseUrl}/merchants/acct-${n}/${path}`;

    expect(await call(account(1), { headers: { authorization: a! } })).toMatchObject({
      status: 200,
      json: { clientId: 'merchant-a', path: '/partner/merchants/acct-1/ping' },
    });
    expect(
      await call(account(2, 'echo'), { method: 'POST', body: 'hi', headers: { authorization: b! } }),
    ).toMatchObject({ status: 200, json: { clientId: 'merchant-b', body: 'hi' } });
    const foreign = await call(account(2), { headers: { authorization: a! } });
    expect(foreign).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect((await call(account(1))).status).toBe(401);
    expect((await call(emulator.resourceUrl, { headers: { authorization: b! } })).status).toBe(200);
    expect((await call(account(3), { headers: { authorization: a! } })).status).toBe(404);
    expect(emulator.requests.map((r) => [r.kind, r.clientId])).toEqual([
      ['token', 'merchant-a'],
      ['token', 'merchant-b'],
      ['resource', 'merchant-a'],
      ['resource', 'merchant-b'],
      ['resource', undefined],
      ['resource', undefined],
      ['resource', 'merchant-b'],
      ['other', undefined],
    ]);
    expect(() =>
      emulator.registerClient({ clientId: 'c', clientSecret: 's', resourcePath: '/merchants/acct-1' }),
    ).toThrow(/already "merchant-a"'s/);
    expect(() => emulator.registerClient({ clientId: 'c', clientSecret: 's', resourcePath: '/' })).toThrow(TypeError);
  });

  it('registering a known client again rotates its secret; keepPrevious keeps the old one for a grace period', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('palisade');
    emulator.registerClient({ clientId: 'tenant-b', clientSecret: 'one' });
    emulator.registerClient({ clientId: 'tenant-b', clientSecret: 'two', keepPrevious: true });
    expect((await call(...validRequest.palisade(emulator, 'tenant-b', 'one'))).status).toBe(200);
    expect((await call(...validRequest.palisade(emulator, 'tenant-b', 'two'))).status).toBe(200);
    emulator.registerClient({ clientId: 'tenant-b', clientSecret: 'three' });
    expect((await call(...validRequest.palisade(emulator, 'tenant-b', 'two'))).status).toBe(401);
    expect((await call(...validRequest.palisade(emulator, 'tenant-b', 'three'))).status).toBe(200);
    expect((await call(...validRequest.palisade(emulator))).status).toBe(200);
  });

  it('removeClient refuses its credentials and revokes its tokens; the own client cannot be removed', async () => {
    h = new ProviderHarness();
    const emulator = await h.emulator('youhodler');
    emulator.registerClient({ clientId: 'tenant-b', clientSecret: 'secret-b', resourcePath: '/accounts/b' });
    await call(...validRequest.youhodler(emulator, 'tenant-b', 'secret-b'));
    await call(...validRequest.youhodler(emulator));
    const [b, own] = emulator.issuedTokens.map((t) => t.accessToken);

    expect(emulator.removeClient('tenant-b').removeClient('never-registered')).toBe(emulator);
    expect(emulator.isLive(b!)).toBe(false);
    expect(emulator.isLive(own!)).toBe(true);
    expect((await call(...validRequest.youhodler(emulator, 'tenant-b', 'secret-b'))).status).toBe(401);
    const account = await call(`${emulator.baseUrl}/accounts/b/ping`, { headers: { authorization: `Bearer ${own}` } });
    expect(account.status).toBe(404);
    expect(() => emulator.removeClient('test-client')).toThrow(/the emulator's own client/);
    emulator.registerClient({ clientId: 'tenant-c', clientSecret: 'secret-c' });
    expect(() => emulator.setCredentials({ clientId: 'tenant-c', clientSecret: 'x' })).toThrow(/registered client/);
    expect((await call(...validRequest.youhodler(emulator))).status).toBe(200);
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
