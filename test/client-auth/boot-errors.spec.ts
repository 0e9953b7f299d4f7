import 'reflect-metadata';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { Test } from '@nestjs/testing';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  OAuthConfigError,
  OAuthModule,
  type OAuthClientOptions,
  type TokenHttpRequest,
  type TokenStrategy,
} from '../../lib/index.js';
import { bootError as bootFailure } from '../support/boot-error.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { pemBodyLines, tlsFixtures, type TlsFixtures } from '../support/tls-fixtures.js';
import { keyPairFor, pkcs8Pem } from './jws-support.js';

/**
 * Bad client-authentication options fail at boot with an `OAuthConfigError` naming the client and
 * the field, every problem at once, and never a piece of a key or secret.
 */
const SECRET = 'sEcReT-for-boot-errors-42';
const TOKEN_URL = 'https://as.example.com/oauth/token';
const rsa = keyPairFor('RS256');
const p256 = keyPairFor('ES256');
const ed25519 = keyPairFor('EdDSA');
let pki: TlsFixtures;
beforeAll(async () => {
  pki = await tlsFixtures();
});

/** Every piece of key material the cases use: none may appear in an error. */
const keyMaterial = (key: KeyObject) => [
  ...pemBodyLines(pkcs8Pem(key)),
  ...(key.type === 'private' ? [String(key.export({ format: 'jwk' }).d)] : []),
];
const FORBIDDEN = [SECRET, ...[rsa, p256, ed25519].flatMap(({ privateKey }) => keyMaterial(privateKey))];

async function bootError(client: Record<string, unknown>): Promise<OAuthConfigError> {
  const configError = await bootFailure(client);
  const text = [configError.message, JSON.stringify(configError), inspect(configError, { depth: 5 })].join('\n');
  for (const forbidden of FORBIDDEN) expect(text).not.toContain(forbidden);
  return configError;
}

const pkjwt = (extra: Record<string, unknown>) => ({
  strategy: 'oauth2',
  tokenUrl: TOKEN_URL,
  clientId: 'svc',
  authMethod: 'private_key_jwt',
  ...extra,
});

const encryptedPem = (key: KeyObject) =>
  key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right-one' }).toString();

describe('bad keys and algorithms', () => {
  it.each<[string, () => Record<string, unknown>, string, RegExp]>([
    [
      'an encrypted PEM without passphrase',
      () => pkjwt({ privateKey: encryptedPem(p256.privateKey) }),
      'privateKey',
      /encrypted/,
    ],
    [
      'an encrypted PEM with the wrong passphrase',
      () => pkjwt({ privateKey: encryptedPem(p256.privateKey), privateKeyPassphrase: 'wrong' }),
      'privateKeyPassphrase',
      /does not decrypt/,
    ],
    [
      'a public key PEM',
      () => pkjwt({ privateKey: p256.publicKey.export({ type: 'spki', format: 'pem' }) }),
      'privateKey',
      /public key/,
    ],
    ['a certificate', () => pkjwt({ privateKey: pki.clientCert }), 'privateKey', /public key or a certificate/],
    ['a public KeyObject', () => pkjwt({ privateKey: rsa.publicKey }), 'privateKey', /public KeyObject/],
    [
      'a public JWK',
      () => pkjwt({ privateKey: createPublicKey(p256.privateKey).export({ format: 'jwk' }) }),
      'privateKey',
      /public JWK/,
    ],
    ['a symmetric JWK', () => pkjwt({ privateKey: { kty: 'oct', k: 'c2VjcmV0' } }), 'privateKey', /kty/],
    ['text that is no key', () => pkjwt({ privateKey: 'not a key' }), 'privateKey', /not a PEM private key/],
    ['a number', () => pkjwt({ privateKey: 42 }), 'privateKey', /PEM string, a KeyObject or a private JWK/],
    [
      'an EC key on secp256k1',
      () => pkjwt({ privateKey: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey }),
      'privateKey',
      /curve secp256k1/,
    ],
    [
      'an EC key on P-521',
      () => pkjwt({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey }),
      'privateKey',
      /curve secp521r1/,
    ],
    ['an Ed448 key', () => pkjwt({ privateKey: generateKeyPairSync('ed448').privateKey }), 'privateKey', /ed448/],
    [
      'a 1024-bit RSA key',
      () => pkjwt({ privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }),
      'privateKey',
      /1024-bit/,
    ],
    ['ES256 with an RSA key', () => pkjwt({ privateKey: rsa.privateKey, algorithm: 'ES256' }), 'algorithm', /rsa/],
    ['PS256 with an EC key', () => pkjwt({ privateKey: p256.privateKey, algorithm: 'PS256' }), 'algorithm', /ec/],
    ['ES384 with a P-256 key', () => pkjwt({ privateKey: p256.privateKey, algorithm: 'ES384' }), 'algorithm', /fit/],
    ['RS256 with Ed25519', () => pkjwt({ privateKey: ed25519.privateKey, algorithm: 'RS256' }), 'algorithm', /fit/],
    [
      'HS256 with private_key_jwt',
      () => pkjwt({ privateKey: p256.privateKey, algorithm: 'HS256' }),
      'algorithm',
      /fit/,
    ],
    ['an unknown algorithm', () => pkjwt({ privateKey: rsa.privateKey, algorithm: 'RS512' }), 'algorithm', /one of/],
    ['an empty keyId', () => pkjwt({ privateKey: rsa.privateKey, keyId: '' }), 'keyId', /non-empty/],
  ])('%s', async (_case, client, field, problem) => {
    const error = await bootError(client());
    expect(error).toMatchObject({ client: 'billing', field });
    expect(error.message).toContain('OAuth client "billing"');
    expect(error.message).toContain(`option "${field}"`);
    expect(error.message).toMatch(problem);
  });
});

describe('what each method needs', () => {
  it.each<[string, () => Record<string, unknown>, string]>([
    ['private_key_jwt with neither privateKey nor clientAssertion', () => pkjwt({}), 'privateKey'],
    [
      'private_key_jwt with both privateKey and clientAssertion',
      () => pkjwt({ privateKey: p256.privateKey, clientAssertion: () => 'x' }),
      'clientAssertion',
    ],
    ['a clientAssertion that is no function', () => pkjwt({ clientAssertion: 'a.b.c' }), 'clientAssertion'],
    [
      'a privateKey with client_secret_basic',
      () => pkjwt({ authMethod: undefined, clientSecret: SECRET, privateKey: p256.privateKey }),
      'privateKey',
    ],
    [
      'a clientAssertion with client_secret_jwt',
      () => pkjwt({ authMethod: 'client_secret_jwt', clientSecret: SECRET, clientAssertion: () => 'x' }),
      'clientAssertion',
    ],
    ['client_secret_jwt without clientSecret', () => pkjwt({ authMethod: 'client_secret_jwt' }), 'clientSecret'],
    [
      'client_secret_jwt with an RS256 algorithm',
      () => pkjwt({ authMethod: 'client_secret_jwt', clientSecret: SECRET, algorithm: 'RS256' }),
      'algorithm',
    ],
    ['client_secret_basic without clientSecret', () => pkjwt({ authMethod: 'client_secret_basic' }), 'clientSecret'],
    [
      'an empty clientSecret with private_key_jwt',
      () => pkjwt({ privateKey: p256.privateKey, clientSecret: '' }),
      'clientSecret',
    ],
    ['tls_client_auth without tls', () => pkjwt({ authMethod: 'tls_client_auth' }), 'tls'],
    [
      'self_signed_tls_client_auth with a CA only',
      () => pkjwt({ authMethod: 'self_signed_tls_client_auth', tls: { ca: 'x' } }),
      'tls',
    ],
    [
      'tls_client_auth with a cert but no key',
      () => pkjwt({ authMethod: 'tls_client_auth', tls: { cert: 'x' } }),
      'tls',
    ],
    ['an unknown authMethod', () => pkjwt({ authMethod: 'private_key_jws' }), 'authMethod'],
    [
      'assertion.lifetimeSeconds of 0',
      () => pkjwt({ privateKey: rsa.privateKey, assertion: { lifetimeSeconds: 0 } }),
      'assertion.lifetimeSeconds',
    ],
    [
      'an empty assertion.audience',
      () => pkjwt({ privateKey: rsa.privateKey, assertion: { audience: [] } }),
      'assertion.audience',
    ],
    [
      'assertion.claims setting iss',
      () => pkjwt({ privateKey: rsa.privateKey, assertion: { claims: { iss: 'someone-else' } } }),
      'assertion.claims',
    ],
  ])('%s', async (_case, client, field) => {
    const error = await bootError(client());
    expect(error).toMatchObject({ client: 'billing', field });
    expect(error.message).toContain(`option "${field}"`);
  });

  it('the unknown authMethod names every method the strategy sends', async () => {
    const error = await bootError(pkjwt({ authMethod: 'mtls' }));
    expect(error.message).toContain(
      "must be 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', " +
        "'tls_client_auth' or 'self_signed_tls_client_auth'",
    );
  });
});

describe('issuer', () => {
  it.each<[string, Record<string, unknown>]>([
    ['issuer and tokenUrl together', { issuer: 'https://as.example.com' }],
    ['an issuer that is no URL', { tokenUrl: undefined, issuer: 'as.example.com' }],
    ['an ftp issuer', { tokenUrl: undefined, issuer: 'ftp://as.example.com' }],
    ['an issuer with a query', { tokenUrl: undefined, issuer: 'https://as.example.com?tenant=a' }],
    ['an issuer with a fragment', { tokenUrl: undefined, issuer: 'https://as.example.com#a' }],
  ])('%s fails naming "issuer"', async (_case, extra) => {
    const error = await bootError(pkjwt({ privateKey: p256.privateKey, ...extra }));
    expect(error).toMatchObject({ client: 'billing', field: 'issuer' });
  });

  it('an issuer stands in for tokenUrl and baseUrl', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        OAuthModule.forRoot({
          logger: false,
          clients: {
            billing: {
              strategy: 'oauth2',
              issuer: 'https://as.example.com',
              clientId: 'svc',
              authMethod: 'private_key_jwt',
              privateKey: p256.privateKey,
            },
          },
        }),
      ],
    }).compile();
    await moduleRef.close();
  });
});

describe('every problem at once', () => {
  it('reports each field of each client in one error', async () => {
    const clients = {
      billing: pkjwt({ privateKey: rsa.publicKey, algorithm: 'ES256', assertion: { lifetimeSeconds: -1 } }),
      ledger: pkjwt({ authMethod: 'tls_client_auth', issuer: 'nope' }),
    } as unknown as Record<string, OAuthClientOptions>;
    const error = (await Test.createTestingModule({ imports: [OAuthModule.forRoot({ logger: false, clients })] })
      .compile()
      .catch((e: unknown) => e)) as OAuthConfigError;
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect(error.issues.map(({ client, field }) => `${client}.${field}`).sort()).toEqual(
      ['billing.assertion.lifetimeSeconds', 'billing.privateKey', 'ledger.issuer', 'ledger.tls'].sort(),
    );
    expect(error.message).toMatch(/^OAuthModule options have 4 problems:/);
  });
});

describe('what boots, and what is said about it', () => {
  it('tls_client_auth with a pfx, and private_key_jwt with a secret it does not send (a warning)', async () => {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        OAuthModule.forRoot({
          logger,
          clients: {
            certified: {
              strategy: 'oauth2',
              tokenUrl: TOKEN_URL,
              clientId: 'svc',
              authMethod: 'tls_client_auth',
              tls: { pfx: Buffer.from('not checked at boot') },
            },
            keyed: {
              strategy: 'oauth2',
              tokenUrl: TOKEN_URL,
              clientId: 'svc',
              clientSecret: SECRET,
              authMethod: 'private_key_jwt',
              privateKey: pkcs8Pem(p256.privateKey),
            },
          },
        }),
      ],
    }).compile();
    await moduleRef.close();
    expect(logger.text()).toContain(`OAuth client "keyed": option "clientSecret" is not sent`);
    for (const forbidden of FORBIDDEN) expect(logger.text()).not.toContain(forbidden);
  });

  it('a custom strategy that declares no authMethods keeps those options as its own', async () => {
    class PlainStrategy implements TokenStrategy {
      readonly tokenPath = '/token';
      buildRequest(): TokenHttpRequest {
        return { method: 'POST', url: TOKEN_URL, headers: {} };
      }
      readToken() {
        return {};
      }
      readError() {
        return {};
      }
    }
    const error = await bootError({
      strategy: PlainStrategy,
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      authMethod: 'private_key_jwt',
      privateKey: 'its own meaning',
    });
    expect(error.issues).toEqual([
      { client: 'billing', field: 'clientSecret', problem: 'must be a non-empty string or a function returning one' },
    ]);
  });
});
