import { constants, randomUUID, sign, createHmac, type KeyObject } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describe, expect, it } from '@jest/globals';
import { generate } from 'selfsigned';
import type { OAuthClientOptions } from '../../lib/index.js';
import { FakeClock, startEmulator, type Emulator, type OAuth2EmulatorOptions } from '../../lib/testing/index.js';
import { bootOAuth } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { tlsFixtures } from '../support/tls-fixtures.js';
import { JWT_BEARER, KEY_ALGS, keyPairFor, type KeyAlg } from '../client-auth/jws-support.js';

const cleanup = closeAfterEach();
const HS_SECRET = 'a-client-secret-of-more-than-32-bytes-for-HS256';

/** A key pair of the type each algorithm needs, with its public JWK. */
function keyPair(alg: KeyAlg, kid?: string): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = keyPairFor(alg);
  return { privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), ...(kid === undefined ? {} : { kid }) } };
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWS made by hand with node:crypto (ECDSA in the JOSE r||s form). */
function signJwt(alg: KeyAlg | 'HS256', key: KeyObject | string, claims: object, header: object = {}): string {
  const input = `${b64({ alg, typ: 'JWT', ...header })}.${b64(claims)}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  if (alg === 'HS256')
    signature = createHmac('sha256', key as string)
      .update(data)
      .digest();
  else if (alg === 'EdDSA') signature = sign(null, data, key as KeyObject);
  else if (alg === 'PS256') {
    signature = sign('sha256', data, {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  } else if (alg === 'RS256') signature = sign('sha256', data, key as KeyObject);
  else {
    const digest = alg === 'ES256' ? 'sha256' : 'sha384';
    signature = sign(digest, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  }
  return `${input}.${signature.toString('base64url')}`;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

interface TlsClient {
  cert?: string;
  key?: string;
  ca?: string;
}

/** A real request with node:http(s); `tls` adds a client certificate and the CA to trust. */
function call(url: string, init: { method?: string; form?: string; tls?: TlsClient } = {}): Promise<Reply> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: init.method ?? (init.form === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: init.form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
        ...init.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : {} });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.form);
  });
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function emulator(options: OAuth2EmulatorOptions): Promise<Emulator<'oauth2'>> {
  return cleanup.track(await startEmulator('oauth2', options));
}

describe('oauth2 emulator: private_key_jwt', () => {
  const clock = new FakeClock();
  const nowSeconds = () => Math.floor(clock.now() / 1000);
  const claims = (e: Emulator, extra: Record<string, unknown> = {}) => ({
    iss: e.clientId,
    sub: e.clientId,
    aud: e.tokenUrl,
    jti: randomUUID(),
    iat: nowSeconds(),
    exp: nowSeconds() + 60,
    ...extra,
  });
  const assertionRequest = (assertion: string, extra: Record<string, string> = {}) =>
    form({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
      ...extra,
    });

  it.each(KEY_ALGS)('accepts an assertion signed with %s', async (alg) => {
    const { privateKey, jwk } = keyPair(alg, `k-${alg}`);
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const reply = await call(e.tokenUrl, {
      form: assertionRequest(signJwt(alg, privateKey, claims(e), { kid: `k-${alg}` })),
    });
    expect(reply).toMatchObject({ status: 200, json: { token_type: 'Bearer', expires_in: 3600 } });
    expect(e.isLive(reply.json.access_token as string)).toBe(true);
  });

  it('refuses a bad signature, a wrong aud, a foreign iss, an expired or far-off exp: 401 invalid_client', async () => {
    const { privateKey, jwk } = keyPair('ES256', 'k1');
    const other = keyPair('ES256', 'k1').privateKey;
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const cases: Array<[string, string]> = [
      [signJwt('ES256', other, claims(e), { kid: 'k1' }), 'client_assertion signature is invalid'],
      [signJwt('ES256', privateKey, claims(e, { aud: 'https://elsewhere.test/token' }), { kid: 'k1' }), 'aud'],
      [signJwt('ES256', privateKey, claims(e, { iss: 'someone-else' }), { kid: 'k1' }), 'iss'],
      [signJwt('ES256', privateKey, claims(e, { sub: 'someone-else' }), { kid: 'k1' }), 'sub'],
      [signJwt('ES256', privateKey, claims(e, { exp: nowSeconds() }), { kid: 'k1' }), 'expired'],
      [signJwt('ES256', privateKey, claims(e, { exp: nowSeconds() + 301 }), { kid: 'k1' }), '300 s'],
      [signJwt('ES256', privateKey, claims(e, { jti: undefined }), { kid: 'k1' }), 'jti'],
      [signJwt('ES256', privateKey, claims(e), { kid: 'unknown' }), 'no registered key'],
      ['not.a-jwt', 'not a signed JWT'],
    ];
    for (const [assertion, problem] of cases) {
      const reply = await call(e.tokenUrl, { form: assertionRequest(assertion) });
      expect(reply.status).toBe(401);
      expect(reply.json.error).toBe('invalid_client');
      expect(reply.json.error_description).toContain(problem);
    }
    expect(e.issuedTokens).toHaveLength(0);
  });

  it('accepts the issuer as aud, or an aud array that contains the token URL', async () => {
    const { privateKey, jwk } = keyPair('RS256');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    for (const aud of [e.issuer, ['https://other.test', e.tokenUrl]]) {
      const reply = await call(e.tokenUrl, {
        form: assertionRequest(signJwt('RS256', privateKey, claims(e, { aud }))),
      });
      expect(reply.status).toBe(200);
    }
  });

  it('follows the emulator clock: an assertion expires when the clock passes its exp', async () => {
    const { privateKey, jwk } = keyPair('EdDSA');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const assertion = signJwt('EdDSA', privateKey, claims(e));
    clock.advance(61_000);
    const reply = await call(e.tokenUrl, { form: assertionRequest(assertion) });
    expect(reply).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
  });

  it('a replayed jti is 400 invalid_client', async () => {
    const { privateKey, jwk } = keyPair('ES384', 'k');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const assertion = signJwt('ES384', privateKey, claims(e), { kid: 'k' });
    expect((await call(e.tokenUrl, { form: assertionRequest(assertion) })).status).toBe(200);
    const replay = await call(e.tokenUrl, { form: assertionRequest(assertion) });
    expect(replay).toMatchObject({
      status: 400,
      json: { error: 'invalid_client', error_description: 'client_assertion jti has already been used' },
    });
  });

  it('kid selects the key; without kid any key that fits the algorithm', async () => {
    const first = keyPair('RS256', 'first');
    const second = keyPair('ES256', 'second');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [first.jwk, second.jwk] }, clock });
    const signedBySecond = (kid?: string) =>
      signJwt('ES256', second.privateKey, claims(e), kid === undefined ? {} : { kid });
    expect((await call(e.tokenUrl, { form: assertionRequest(signedBySecond('second')) })).status).toBe(200);
    expect((await call(e.tokenUrl, { form: assertionRequest(signedBySecond()) })).status).toBe(200);
    // The right signature under the other key's kid: that key is RSA, so nothing fits ES256.
    expect((await call(e.tokenUrl, { form: assertionRequest(signedBySecond('first')) })).status).toBe(401);
  });

  it('refuses alg none, an HS256 assertion when only private_key_jwt is allowed, and RS256 over an EC key', async () => {
    const { privateKey, jwk } = keyPair('ES256');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const unsigned = `${b64({ alg: 'none' })}.${b64(claims(e))}.`;
    const hs = signJwt('HS256', e.clientSecret, claims(e));
    const confused = signJwt('ES256', privateKey, claims(e), { alg: 'RS256' });
    for (const assertion of [unsigned, hs, confused]) {
      expect(await call(e.tokenUrl, { form: assertionRequest(assertion) })).toMatchObject({
        status: 401,
        json: { error: 'invalid_client' },
      });
    }
  });

  it('refuses a secret beside the assertion, a wrong client_assertion_type, a secret when not allowed', async () => {
    const { privateKey, jwk } = keyPair('ES256');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const good = () => signJwt('ES256', privateKey, claims(e));
    const both = await call(e.tokenUrl, { form: assertionRequest(good(), { client_secret: e.clientSecret }) });
    expect(both).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    const badType = await call(e.tokenUrl, {
      form: assertionRequest(good(), { client_assertion_type: 'urn:example:other' }),
    });
    expect(badType).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    const secret = await call(e.tokenUrl, {
      form: form({ grant_type: 'client_credentials', client_id: e.clientId, client_secret: e.clientSecret }),
    });
    expect(secret).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    const matchingId = await call(e.tokenUrl, { form: assertionRequest(good(), { client_id: e.clientId }) });
    expect(matchingId.status).toBe(200);
    const otherId = await call(e.tokenUrl, { form: assertionRequest(good(), { client_id: 'other' }) });
    expect(otherId).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
  });

  it('clientOptions() sets authMethod private_key_jwt and leaves the key (and no secret) to the caller', async () => {
    const { jwk } = keyPair('ES256');
    const e = await emulator({ authMethods: ['private_key_jwt', 'client_secret_basic'], jwks: { keys: [jwk] } });
    expect(e.clientOptions()).toEqual({
      strategy: 'oauth2',
      baseUrl: e.baseUrl,
      clientId: 'test-client',
      authMethod: 'private_key_jwt',
    });
  });

  it('a misconfigured emulator fails to start', async () => {
    await expect(startEmulator('oauth2', { authMethods: ['private_key_jwt'] })).rejects.toThrow(/needs jwks/);
    await expect(startEmulator('oauth2', { authMethods: ['tls_client_auth'] })).rejects.toThrow(/need tls/);
    await expect(
      startEmulator('oauth2', { authMethods: ['private_key_jwt'], jwks: { keys: [{ kty: 'EC' }] } }),
    ).rejects.toThrow(/jwks.keys\[0\]/);
  });
});

describe('oauth2 emulator: client_secret_jwt', () => {
  const clock = new FakeClock();
  const claims = (e: Emulator) => ({
    iss: e.clientId,
    sub: e.clientId,
    aud: e.tokenUrl,
    jti: randomUUID(),
    exp: Math.floor(clock.now() / 1000) + 60,
  });
  const post = (e: Emulator, assertion: string) =>
    call(e.tokenUrl, {
      form: form({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion }),
    });

  it('accepts HS256 keyed by the secret (and the previous one in a grace period), refuses another key', async () => {
    const e = await emulator({ authMethods: ['client_secret_jwt'], clientSecret: 'a-long-shared-secret-1', clock });
    expect((await post(e, signJwt('HS256', 'a-long-shared-secret-1', claims(e)))).status).toBe(200);
    const wrong = await post(e, signJwt('HS256', 'another-secret', claims(e)));
    expect(wrong).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    e.setCredentials({ clientSecret: 'a-long-shared-secret-2', keepPrevious: true });
    expect((await post(e, signJwt('HS256', 'a-long-shared-secret-1', claims(e)))).status).toBe(200);
    expect((await post(e, signJwt('HS256', 'a-long-shared-secret-2', claims(e)))).status).toBe(200);
    expect(e.clientOptions()).toMatchObject({
      authMethod: 'client_secret_jwt',
      clientSecret: 'a-long-shared-secret-2',
    });
  });

  it("a registered client signs with its own secret; the jwks keys stay the own client's", async () => {
    const { privateKey, jwk } = keyPair('ES256');
    const e = await emulator({ authMethods: ['client_secret_jwt', 'private_key_jwt'], jwks: { keys: [jwk] }, clock });
    e.registerClient({ clientId: 'tenant-b', clientSecret: 'tenant-b-long-shared-secret' });
    const asB = { ...claims(e), iss: 'tenant-b', sub: 'tenant-b' };
    expect((await post(e, signJwt('HS256', 'tenant-b-long-shared-secret', asB))).status).toBe(200);
    const withId = await call(e.tokenUrl, {
      form: form({
        grant_type: 'client_credentials',
        client_id: 'tenant-b',
        client_assertion_type: JWT_BEARER,
        client_assertion: signJwt('HS256', 'tenant-b-long-shared-secret', { ...asB, jti: randomUUID() }),
      }),
    });
    expect(withId.status).toBe(200);
    expect(e.issuedTokens.map((t) => t.clientId)).toEqual(['tenant-b', 'tenant-b']);
    const wrongKey = await post(e, signJwt('HS256', 'another-secret', { ...asB, jti: randomUUID() }));
    expect(wrongKey).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    const signed = await post(e, signJwt('ES256', privateKey, { ...asB, jti: randomUUID() }));
    expect(signed).toMatchObject({
      status: 401,
      json: { error: 'invalid_client', error_description: 'private_key_jwt is not allowed for this client' },
    });
    expect((await post(e, signJwt('ES256', privateKey, claims(e)))).status).toBe(200);
  });

  it('an asymmetric assertion is refused when only client_secret_jwt is allowed', async () => {
    const { privateKey, jwk } = keyPair('ES256');
    const e = await emulator({ authMethods: ['client_secret_jwt'], jwks: { keys: [jwk] }, clock });
    const reply = await post(e, signJwt('ES256', privateKey, claims(e)));
    expect(reply).toMatchObject({
      status: 401,
      json: { error: 'invalid_client', error_description: 'private_key_jwt is not allowed for this client' },
    });
  });
});

describe('oauth2 emulator: tls_client_auth over HTTPS', () => {
  const grant = (clientId = 'test-client') => form({ grant_type: 'client_credentials', client_id: clientId });

  async function tlsEmulator(options: OAuth2EmulatorOptions = {}) {
    const { ca, serverCert, serverKey } = await tlsFixtures();
    return emulator({ authMethods: ['tls_client_auth'], tls: { cert: serverCert, key: serverKey, ca }, ...options });
  }

  it('listens on https and accepts a client certificate signed by tls.ca', async () => {
    const { ca, clientCert, clientKey } = await tlsFixtures();
    const e = await tlsEmulator({ clientCertSubject: 'token-client-mtls' });
    expect(e.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const reply = await call(e.tokenUrl, { form: grant(), tls: { cert: clientCert, key: clientKey, ca } });
    expect(reply).toMatchObject({ status: 200, json: { token_type: 'Bearer' } });
    expect(e.tokenRequests[0]!.clientCertificate).toMatchObject({
      subject: 'CN=token-client-mtls',
      authorized: true,
      fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    });
    expect(e.clientOptions()).toEqual({
      strategy: 'oauth2',
      baseUrl: e.baseUrl,
      clientId: 'test-client',
      authMethod: 'tls_client_auth',
    });
  });

  it('refuses no certificate, an unverified one, another subject, another client_id: 401 invalid_client', async () => {
    const { ca, clientCert, clientKey } = await tlsFixtures();
    const stranger = await generate([{ name: 'commonName', value: 'token-client-mtls' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
    });
    const e = await tlsEmulator({ clientCertSubject: 'CN=token-client-mtls' });
    const cases: Array<[string, TlsClient, string]> = [
      [grant(), { ca }, 'client certificate was not provided'],
      [grant(), { ca, cert: stranger.cert, key: stranger.private }, 'client certificate was not verified'],
      [grant('someone'), { ca, cert: clientCert, key: clientKey }, 'client authentication failed'],
    ];
    for (const [body, tls, description] of cases) {
      const reply = await call(e.tokenUrl, { form: body, tls });
      expect(reply).toMatchObject({ status: 401, json: { error: 'invalid_client', error_description: description } });
    }
    const picky = await tlsEmulator({ clientCertSubject: 'CN=someone-else,O=Example' });
    const reply = await call(picky.tokenUrl, { form: grant(), tls: { ca, cert: clientCert, key: clientKey } });
    expect(reply.json.error_description).toBe('client certificate subject does not match the registered one');
  });

  it('self_signed_tls_client_auth accepts the registered self-signed certificate only', async () => {
    const { ca, serverCert, serverKey } = await tlsFixtures();
    const keys = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;
    const registered = await generate([{ name: 'commonName', value: 'self-signed-client' }], keys);
    const other = await generate([{ name: 'commonName', value: 'self-signed-client' }], keys);
    const e = await emulator({
      authMethods: ['self_signed_tls_client_auth'],
      tls: { cert: serverCert, key: serverKey },
      selfSignedCertificates: [registered.cert],
    });
    const ok = await call(e.tokenUrl, { form: grant(), tls: { ca, cert: registered.cert, key: registered.private } });
    expect(ok.status).toBe(200);
    const refused = await call(e.tokenUrl, { form: grant(), tls: { ca, cert: other.cert, key: other.private } });
    expect(refused).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
  });

  it('secrets still work over HTTPS when listed', async () => {
    const { ca } = await tlsFixtures();
    const e = await tlsEmulator({ authMethods: ['tls_client_auth', 'client_secret_post'] });
    const reply = await call(e.tokenUrl, {
      form: form({ grant_type: 'client_credentials', client_id: e.clientId, client_secret: e.clientSecret }),
      tls: { ca },
    });
    expect(reply.status).toBe(200);
  });
});

describe('oauth2 emulator: discovery metadata', () => {
  it('serves RFC 8414 and OpenID metadata at the root, with the issuer on the handle', async () => {
    const { jwk } = keyPair('ES256');
    const e = await emulator({
      authMethods: ['private_key_jwt', 'client_secret_jwt', 'client_secret_basic'],
      jwks: { keys: [jwk] },
      scopes: ['read'],
    });
    expect(e.issuer).toBe(e.baseUrl);
    const expected = {
      issuer: e.issuer,
      token_endpoint: e.tokenUrl,
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['read'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_jwt', 'client_secret_basic'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'HS256'],
    };
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const reply = await call(`${e.baseUrl}${path}`);
      expect(reply).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' } });
      expect(reply.json).toEqual(expected);
    }
    expect(e.requests.map((r) => r.kind)).toEqual(['discovery', 'discovery']);
  });

  it('for an issuer with a path, uses the path-aware locations only', async () => {
    const e = await emulator({ basePath: '/tenants/a', tokenFormat: 'jwt' });
    const origin = new URL(e.baseUrl).origin;
    expect(e.issuer).toBe(`${origin}/tenants/a`);
    const rfc8414 = await call(`${origin}/.well-known/oauth-authorization-server/tenants/a`);
    expect(rfc8414.json).toMatchObject({
      issuer: e.issuer,
      token_endpoint: `${origin}/tenants/a/oauth/token`,
      jwks_uri: `${origin}/tenants/a/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    expect(rfc8414.json).not.toHaveProperty('token_endpoint_auth_signing_alg_values_supported');
    expect((await call(`${e.issuer}/.well-known/openid-configuration`)).json.issuer).toBe(e.issuer);
    expect((await call(`${origin}/.well-known/oauth-authorization-server`)).status).toBe(404);
    expect((await call(`${e.issuer}/.well-known/oauth-authorization-server`)).status).toBe(404);
  });

  it('in TLS mode announces the mTLS alias of the token endpoint', async () => {
    const { ca, serverCert, serverKey } = await tlsFixtures();
    const e = await emulator({ authMethods: ['tls_client_auth'], tls: { cert: serverCert, key: serverKey, ca } });
    const reply = await call(`${e.issuer}/.well-known/oauth-authorization-server`, { tls: { ca } });
    expect(reply.json).toMatchObject({
      issuer: e.issuer,
      token_endpoint: e.tokenUrl,
      token_endpoint_auth_methods_supported: ['tls_client_auth'],
      mtls_endpoint_aliases: { token_endpoint: e.tokenUrl },
    });
  });

  it('failNext on discovery fails the metadata, then serves it again; other methods are 405', async () => {
    const e = await emulator({});
    e.failNext({ status: 404, body: { error: 'not_found' } }, { on: 'discovery' });
    const url = `${e.issuer}/.well-known/oauth-authorization-server`;
    expect((await call(url)).status).toBe(404);
    expect((await call(url)).status).toBe(200);
    expect((await call(url, { method: 'POST', form: '' })).status).toBe(405);
  });
});

describe('oauth2 emulator: the module against it', () => {
  const clock = new FakeClock();
  const boot = async (options: OAuthClientOptions) =>
    cleanup.track(await bootOAuth({ idp: options }, { clock, retry: { maxAttempts: 1 } }));

  it('private_key_jwt: clientOptions() plus the key; each token request spends a fresh jti', async () => {
    const { privateKey, jwk } = keyPair('ES256', 'k1');
    const e = await emulator({ authMethods: ['private_key_jwt'], jwks: { keys: [jwk] }, clock });
    const app = await boot(e.clientOptions({ privateKey, keyId: 'k1' }));
    const first = await app.tokens.getToken('idp');
    expect(e.isLive(first.accessToken)).toBe(true);
    clock.advance(3600_000);
    expect(e.isLive((await app.tokens.getToken('idp')).accessToken)).toBe(true);
    const jtis = e.tokenRequests.map(
      (r) => JSON.parse(Buffer.from(r.form!.client_assertion!.split('.')[1]!, 'base64url').toString()).jti,
    );
    expect(new Set(jtis).size).toBe(2);
  });

  it('client_secret_jwt: clientOptions() as is', async () => {
    const e = await emulator({ authMethods: ['client_secret_jwt'], clientSecret: HS_SECRET, clock });
    const app = await boot(e.clientOptions());
    expect(e.isLive((await app.tokens.getToken('idp')).accessToken)).toBe(true);
  });

  it('tls_client_auth: clientOptions() plus tls', async () => {
    const { ca, serverCert, serverKey, clientCert, clientKey } = await tlsFixtures();
    const e = await emulator({
      authMethods: ['tls_client_auth'],
      tls: { cert: serverCert, key: serverKey, ca },
      clientCertSubject: 'token-client-mtls',
      clock,
    });
    const app = await boot(e.clientOptions({ tls: { cert: clientCert, key: clientKey, ca } }));
    expect(e.isLive((await app.tokens.getToken('idp')).accessToken)).toBe(true);
    expect(e.tokenRequests[0]!.clientCertificate).toMatchObject({ authorized: true });
  });

  it('issuer with a base path: one metadata request, then the token endpoint it names', async () => {
    const e = await emulator({ basePath: '/tenants/a', clock });
    const app = await boot({
      strategy: 'oauth2',
      issuer: e.issuer,
      clientId: e.clientId,
      clientSecret: e.clientSecret,
    });
    await Promise.all([app.tokens.getToken('idp'), app.tokens.getToken('idp', { forceRefresh: true })]);
    const discovery = e.requests.filter((r) => r.kind === 'discovery');
    expect(discovery.map((r) => r.path)).toEqual(['/.well-known/oauth-authorization-server/tenants/a']);
    expect(e.tokenRequests.length).toBeGreaterThan(0);
  });
});
