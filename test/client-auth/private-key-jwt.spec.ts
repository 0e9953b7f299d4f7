import 'reflect-metadata';
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { OAuth2ClientOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import {
  decodeJws,
  JWT_BEARER,
  KEY_ALGS,
  keyPairFor,
  NOW_S,
  pkcs8Pem,
  startFormTokenServer,
  verifyJws,
  type FormTokenServer,
} from './jws-support.js';

/**
 * `private_key_jwt` (RFC 7523 §2.2) against a real token endpoint on 127.0.0.1: the form it
 * receives, the assertion's header and claims, and its signature checked with node:crypto and
 * the public key, for every algorithm.
 */
const cleanup = closeAfterEach();

async function server(answers?: number[]): Promise<FormTokenServer> {
  return cleanup.track(await startFormTokenServer(answers));
}

async function boot(options: Partial<OAuth2ClientOptions>, moduleWide: object = {}): Promise<Booted> {
  const api = { strategy: 'oauth2', clientId: 'svc-client', authMethod: 'private_key_jwt', ...options };
  return cleanup.track(await bootOAuth({ api: api as OAuth2ClientOptions }, moduleWide));
}

describe('private_key_jwt: each algorithm signs what a relying party verifies', () => {
  it.each(KEY_ALGS)('%s (the default for its key; PS256 on request): form, header, claims, signature', async (alg) => {
    const tokens = await server();
    const { privateKey, publicKey } = keyPairFor(alg);
    const app = await boot({ tokenUrl: tokens.tokenUrl, privateKey, ...(alg === 'PS256' ? { algorithm: alg } : {}) });

    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });

    const [request] = tokens.requests;
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = tokens.forms()[0]!;
    expect([...form.keys()].sort()).toEqual(
      ['client_assertion', 'client_assertion_type', 'client_id', 'grant_type'].sort(),
    );
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe('svc-client');
    expect(form.get('client_assertion_type')).toBe(JWT_BEARER);
    expect(form.has('client_secret')).toBe(false);

    const assertion = form.get('client_assertion')!;
    const { header, claims } = decodeJws(assertion);
    expect(header).toEqual({ alg });
    expect(claims).toEqual({
      iss: 'svc-client',
      sub: 'svc-client',
      aud: tokens.tokenUrl,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: NOW_S,
      exp: NOW_S + 60,
    });
    expect(verifyJws(assertion, alg, publicKey)).toBe(true);
    // And not with another key of the same kind: the signature is really the key's.
    expect(verifyJws(assertion, alg, keyPairFor(alg).publicKey)).toBe(false);
  });
});

describe('private_key_jwt: the key forms', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it.each<[string, () => Partial<OAuth2ClientOptions>]>([
    ['a PKCS#8 PEM string', () => ({ privateKey: pkcs8Pem(privateKey) })],
    ['a SEC1 PEM string', () => ({ privateKey: privateKey.export({ type: 'sec1', format: 'pem' }).toString() })],
    ['a PEM Buffer', () => ({ privateKey: Buffer.from(pkcs8Pem(privateKey)) })],
    ['a KeyObject', () => ({ privateKey })],
    ['a private JWK', () => ({ privateKey: privateKey.export({ format: 'jwk' }) })],
    [
      'an encrypted PEM with privateKeyPassphrase',
      () => ({
        privateKey: privateKey
          .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass-phrase-1' })
          .toString(),
        privateKeyPassphrase: 'pass-phrase-1',
      }),
    ],
  ])('%s signs ES256 assertions', async (_form, key) => {
    const tokens = await server();
    const app = await boot({ tokenUrl: tokens.tokenUrl, ...key() });
    await app.tokens.getToken('api');
    const assertion = tokens.assertions()[0]!;
    expect(decodeJws(assertion).header.alg).toBe('ES256');
    expect(verifyJws(assertion, 'ES256', publicKey)).toBe(true);
  });
});

describe('private_key_jwt: kid', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = (): JsonWebKey => ({ ...privateKey.export({ format: 'jwk' }), kid: 'jwk-own-kid' });

  it.each<[string, () => Partial<OAuth2ClientOptions>, Record<string, unknown>]>([
    ['no keyId: no kid', () => ({ privateKey }), { alg: 'EdDSA' }],
    ['keyId: kid', () => ({ privateKey, keyId: 'key-2026' }), { alg: 'EdDSA', kid: 'key-2026' }],
    ["a JWK's own kid", () => ({ privateKey: jwk() }), { alg: 'EdDSA', kid: 'jwk-own-kid' }],
    ["keyId over a JWK's kid", () => ({ privateKey: jwk(), keyId: 'chosen' }), { alg: 'EdDSA', kid: 'chosen' }],
  ])('%s', async (_case, key, header) => {
    const tokens = await server();
    const app = await boot({ tokenUrl: tokens.tokenUrl, ...key() });
    await app.tokens.getToken('api');
    expect(decodeJws(tokens.assertions()[0]!).header).toEqual(header);
  });
});

describe('private_key_jwt: claims', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('aud is assertion.audience (a string stays a string, an array an array)', async () => {
    const tokens = await server();
    const single = await boot({ tokenUrl: tokens.tokenUrl, privateKey, assertion: { audience: 'https://as.example' } });
    await single.tokens.getToken('api');
    await cleanup.closeNow(single);
    const many = await boot({
      tokenUrl: tokens.tokenUrl,
      privateKey,
      assertion: { audience: ['https://as.example', 'https://as.example/token'] },
    });
    await many.tokens.getToken('api');
    const [first, second] = tokens.assertions().map((a) => decodeJws(a).claims.aud);
    expect(first).toBe('https://as.example');
    expect(second).toEqual(['https://as.example', 'https://as.example/token']);
  });

  it('lifetimeSeconds sets exp, claims are added, iat/exp follow the injected clock', async () => {
    const tokens = await server();
    const app = await boot({
      tokenUrl: tokens.tokenUrl,
      privateKey,
      assertion: { lifetimeSeconds: 300, claims: { tenant: 'acme', nbf: NOW_S } },
    });
    app.clock.advance(90_500);
    await app.tokens.getToken('api');
    const { claims } = decodeJws(tokens.assertions()[0]!);
    expect(claims).toEqual({
      tenant: 'acme',
      nbf: NOW_S,
      iss: 'svc-client',
      sub: 'svc-client',
      aud: tokens.tokenUrl,
      jti: expect.any(String),
      iat: NOW_S + 90,
      exp: NOW_S + 90 + 300,
    });
  });

  it('a fresh jti on every attempt, retries included (503 then 200)', async () => {
    const tokens = await server([503, 503]);
    const app = await boot({ tokenUrl: tokens.tokenUrl, privateKey }, { retry: { maxAttempts: 3 } });
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
    const assertions = tokens.assertions();
    expect(assertions).toHaveLength(3);
    const jtis = assertions.map((a) => decodeJws(a).claims.jti);
    expect(new Set(jtis).size).toBe(3);
    // The retries waited on the injected clock: each assertion's iat is the clock's at its attempt.
    const iats = assertions.map((a) => decodeJws(a).claims.iat as number);
    expect(iats[0]).toBe(NOW_S);
    expect(iats).toEqual([...iats].sort((a, b) => a - b));
    expect(iats.at(-1)).toBe(Math.floor((Date.UTC(2026, 0, 1) + app.clock.sleeps.reduce((a, b) => a + b, 0)) / 1000));
  });

  it('a new token request makes a new assertion (forceRefresh)', async () => {
    const tokens = await server();
    const app = await boot({ tokenUrl: tokens.tokenUrl, privateKey });
    await app.tokens.getToken('api');
    await app.tokens.getToken('api', { forceRefresh: true });
    const [a, b] = tokens.assertions().map((s) => decodeJws(s).claims.jti);
    expect(a).not.toBe(b);
  });

  it('the public key checks the assertion whichever form the key took (JWK from createPublicKey)', async () => {
    const tokens = await server();
    const app = await boot({ tokenUrl: tokens.tokenUrl, privateKey: privateKey.export({ format: 'jwk' }) });
    await app.tokens.getToken('api');
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' });
    expect(verifyJws(tokens.assertions()[0]!, 'ES256', publicKey)).toBe(true);
  });
});
