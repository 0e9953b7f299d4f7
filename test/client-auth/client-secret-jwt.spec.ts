import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { TokenRequestError, type OAuth2ClientOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { decodeJws, JWT_BEARER, NOW_S, startFormTokenServer, verifyJws, type FormTokenServer } from './jws-support.js';

/**
 * `client_secret_jwt` (HS256 keyed by the secret) and `clientAssertion` (an assertion made
 * elsewhere, sent as is, asked for once per attempt), against a real token endpoint.
 */
const cleanup = closeAfterEach();
const SECRET = 'hs256-secret-of-at-least-32-bytes-long!!';

async function server(answers?: number[]): Promise<FormTokenServer> {
  return cleanup.track(await startFormTokenServer(answers));
}

async function boot(options: Partial<OAuth2ClientOptions>, moduleWide: object = {}): Promise<Booted> {
  const api = { strategy: 'oauth2', clientId: 'svc-client', ...options } as OAuth2ClientOptions;
  return cleanup.track(await bootOAuth({ api }, moduleWide));
}

describe('client_secret_jwt', () => {
  it('sends an HS256 assertion keyed by the secret, and neither the secret nor a Basic header', async () => {
    const tokens = await server();
    const app = await boot({ tokenUrl: tokens.tokenUrl, authMethod: 'client_secret_jwt', clientSecret: SECRET });
    await app.tokens.getToken('api');

    const [request] = tokens.requests;
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.body).not.toContain(SECRET);
    const form = tokens.forms()[0]!;
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc-client',
      client_assertion_type: JWT_BEARER,
      client_assertion: expect.any(String),
    });
    const assertion = form.get('client_assertion')!;
    expect(decodeJws(assertion).header).toEqual({ alg: 'HS256' });
    expect(decodeJws(assertion).claims).toEqual({
      iss: 'svc-client',
      sub: 'svc-client',
      aud: tokens.tokenUrl,
      jti: expect.any(String),
      iat: NOW_S,
      exp: NOW_S + 60,
    });
    expect(verifyJws(assertion, 'HS256', SECRET)).toBe(true);
    expect(verifyJws(assertion, 'HS256', `${SECRET}x`)).toBe(false);
  });

  it('signs with the rotated secret after setCredentials, with keyId as kid', async () => {
    const tokens = await server();
    const app = await boot({
      tokenUrl: tokens.tokenUrl,
      authMethod: 'client_secret_jwt',
      clientSecret: SECRET,
      keyId: 'hmac-1',
    });
    await app.tokens.getToken('api');
    await app.tokens.setCredentials('api', { clientSecret: 'the-next-secret-also-32-bytes-long!!' });
    await app.tokens.getToken('api');
    const [before, after] = tokens.assertions();
    expect(decodeJws(after!).header).toEqual({ alg: 'HS256', kid: 'hmac-1' });
    expect(verifyJws(before!, 'HS256', SECRET)).toBe(true);
    expect(verifyJws(after!, 'HS256', 'the-next-secret-also-32-bytes-long!!')).toBe(true);
  });

  it('a fresh jti on each attempt of a retried request', async () => {
    const tokens = await server([503]);
    const app = await boot({ tokenUrl: tokens.tokenUrl, authMethod: 'client_secret_jwt', clientSecret: SECRET });
    await app.tokens.getToken('api');
    const [first, second] = tokens.assertions().map((a) => decodeJws(a).claims.jti);
    expect(first).not.toBe(second);
  });
});

describe('clientAssertion: an assertion made elsewhere', () => {
  it('is sent as is, asked for once per attempt with { client, tokenUrl, audience }', async () => {
    const tokens = await server([503, 502]);
    const calls: unknown[] = [];
    const app = await boot({
      tokenUrl: tokens.tokenUrl,
      authMethod: 'private_key_jwt',
      clientAssertion: async (context) => {
        calls.push(context);
        return `kms.assertion.${calls.length}`;
      },
    });
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
    expect(calls).toEqual([
      { client: 'api', tokenUrl: tokens.tokenUrl, audience: tokens.tokenUrl },
      { client: 'api', tokenUrl: tokens.tokenUrl, audience: tokens.tokenUrl },
      { client: 'api', tokenUrl: tokens.tokenUrl, audience: tokens.tokenUrl },
    ]);
    expect(tokens.assertions()).toEqual(['kms.assertion.1', 'kms.assertion.2', 'kms.assertion.3']);
    const form = tokens.forms()[0]!;
    expect(form.get('client_assertion_type')).toBe(JWT_BEARER);
    expect(form.get('client_id')).toBe('svc-client');
    expect(tokens.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('a synchronous function works too, and assertion.audience is what it is told', async () => {
    const tokens = await server();
    const audiences: unknown[] = [];
    const app = await boot({
      tokenUrl: tokens.tokenUrl,
      authMethod: 'private_key_jwt',
      assertion: { audience: ['https://as.example', 'https://other.example'] },
      clientAssertion: ({ audience }) => {
        audiences.push(audience);
        return 'static.jwt.value';
      },
    });
    await app.tokens.getToken('api');
    expect(audiences).toEqual([['https://as.example', 'https://other.example']]);
    expect(tokens.assertions()).toEqual(['static.jwt.value']);
  });

  it.each<[string, () => unknown]>([
    ['throws', () => Promise.reject(new Error('KMS AccessDenied'))],
    ['returns no string', () => Promise.resolve(undefined)],
    ['returns an empty string', () => ''],
  ])('a function that %s is a TokenRequestError naming the client, and no request is sent', async (_c, fn) => {
    const tokens = await server();
    const app = await boot({
      tokenUrl: tokens.tokenUrl,
      authMethod: 'private_key_jwt',
      clientAssertion: fn as () => string,
    });
    const error = await app.tokens.getToken('api').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ client: 'api', code: 'invalid_request', attempts: 1 });
    expect((error as Error).message).toContain('OAuth client "api"');
    expect((error as Error).message).toContain('the clientAssertion function failed');
    expect(tokens.requests).toHaveLength(0);
  });
});
