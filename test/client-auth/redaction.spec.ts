import 'reflect-metadata';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { TokenRequestError, type OAuth2ClientOptions, type StoredToken, type TokenStore } from '../../lib/index.js';
import { jwkThumbprint } from '../../lib/client-auth/jwk-thumbprint.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json, startRecordingServer, type RecordedRequest } from '../support/recording-server.js';
import { pemBodyLines } from '../support/tls-fixtures.js';
import { keyPairFor, pkcs8Pem } from './jws-support.js';

/**
 * Keys, secrets and assertions are credentials: a token endpoint that echoes the request back
 * (error_description, a plain-text 500) gets none of them into an error, its JSON, its inspection
 * or a log line; cache keys hold a key's thumbprint, never the key.
 */
const cleanup = closeAfterEach();
const SECRET = 'hs-secret/with+chars=and-32-bytes!!';
const { privateKey } = keyPairFor('ES256');
const PEM = pkcs8Pem(privateKey);
const JWK = privateKey.export({ format: 'jwk' });

type Echo = (req: RecordedRequest, res: ServerResponse) => void;
const ECHOES: [string, Echo][] = [
  [
    'a 400 quoting the form in error_description',
    (req, res) => json(res, 400, { error: 'invalid_client', error_description: `got ${req.body}` }),
  ],
  [
    'a plain-text 500 quoting the form',
    (req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`bad: ${req.body}`),
  ],
  [
    'an unknown error code made of the assertion',
    (req, res) => json(res, 400, { error: new URLSearchParams(req.body).get('client_assertion') }),
  ],
];

async function echoingServer(echo: Echo) {
  return cleanup.track(await startRecordingServer({ 'POST /oauth/token': echo }));
}

const forbiddenFor = (assertions: string[]) => [
  SECRET,
  encodeURIComponent(SECRET),
  ...pemBodyLines(PEM),
  String(JWK.d),
  ...assertions,
  // Each assertion's signature alone is a credential too (with its header and claims, it is the assertion).
  ...assertions.map((a) => a.split('.')[2]!),
];

async function failure(app: Booted): Promise<TokenRequestError> {
  const error = await app.tokens.getToken('api').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
}

function expectClean(app: Booted, error: Error, forbidden: string[]) {
  const texts = [
    error.message,
    String(error.stack),
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
    app.logger.text(),
  ];
  for (const text of texts) for (const value of forbidden) expect(text).not.toContain(value);
}

const boot = async (tokenUrl: string, options: Partial<OAuth2ClientOptions>) =>
  cleanup.track(
    await bootOAuth(
      { api: { strategy: 'oauth2', tokenUrl, clientId: 'svc', ...options } as OAuth2ClientOptions },
      { retry: { maxAttempts: 2, baseDelayMs: 0 } },
    ),
  );

describe.each(ECHOES)('%s: nothing secret comes out', (_case, echo) => {
  it.each<[string, Partial<OAuth2ClientOptions>]>([
    ['private_key_jwt with a PEM', { authMethod: 'private_key_jwt', privateKey: PEM }],
    ['private_key_jwt with a JWK', { authMethod: 'private_key_jwt', privateKey: JWK }],
    ['client_secret_jwt', { authMethod: 'client_secret_jwt', clientSecret: SECRET }],
    [
      'clientAssertion',
      {
        authMethod: 'private_key_jwt',
        clientAssertion: () => 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJzdmMifQ.c2lnbmF0dXJlLW9mLWttcw',
      },
    ],
  ])('%s', async (_method, options) => {
    const server = await echoingServer(echo);
    const app = await boot(`${server.url}/oauth/token`, options);
    const error = await failure(app);
    const assertions = server.requests.map((r) => new URLSearchParams(r.body).get('client_assertion')!);
    expect(assertions.length).toBeGreaterThan(0);
    expectClean(app, error, forbiddenFor(assertions));
  });
});

describe('a clientAssertion function that throws', () => {
  it('is named by its error class in the message (the error itself stays the cause)', async () => {
    const server = await echoingServer((_req, res) => json(res, 200, {}));
    const app = await boot(`${server.url}/oauth/token`, {
      authMethod: 'private_key_jwt',
      clientAssertion: () => {
        throw new RangeError('KMS refused');
      },
    });
    const error = await failure(app);
    expect(error.message).toContain('the clientAssertion function failed (RangeError)');
    expect(error.message).not.toContain('KMS refused');
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(server.requests).toHaveLength(0);
  });
});

/** A store that remembers the keys it is given (what replicas would share). */
class KeyRecordingStore implements TokenStore {
  readonly keys: string[] = [];
  readonly values = new Map<string, StoredToken>();
  async get(key: string) {
    return this.values.get(key);
  }
  async set(key: string, value: StoredToken) {
    this.keys.push(key);
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.values.delete(key);
  }
  async deleteClient() {}
}

describe('cache keys', () => {
  it("carry the key's thumbprint: one key in any form shares tokens, another key does not", async () => {
    let issued = 0;
    const server = cleanup.track(
      await startRecordingServer({
        'POST /oauth/token': (_req, res) => json(res, 200, { access_token: `AT-${++issued}`, expires_in: 3600 }),
      }),
    );
    const tokenUrl = `${server.url}/oauth/token`;
    const keyed = (key: KeyObject | string | object) =>
      ({
        strategy: 'oauth2',
        tokenUrl,
        clientId: 'svc',
        authMethod: 'private_key_jwt',
        privateKey: key,
      }) as OAuth2ClientOptions;
    const store = new KeyRecordingStore();
    const replica = async (key: KeyObject | string | object) =>
      cleanup.track(await bootOAuth({ api: keyed(key) }, { store })).tokens.getToken('api');

    const first = await replica(PEM);
    const sameKeyAsJwk = await replica(JWK);
    const otherKey = await replica(keyPairFor('ES256').privateKey);

    expect(sameKeyAsJwk.accessToken).toBe(first.accessToken); // read from the store: same cache key
    expect(otherKey.accessToken).not.toBe(first.accessToken);
    expect(new Set(store.keys).size).toBe(2);
    for (const key of store.keys)
      for (const line of [...pemBodyLines(PEM), String(JWK.d)]) expect(key).not.toContain(line);
  });

  it('the thumbprint is RFC 7638’s (its §3.1 example key)', () => {
    const n = [
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE',
      'CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q',
      'vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6',
      'WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    ].join('');
    const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
    expect(jwkThumbprint(key)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});
