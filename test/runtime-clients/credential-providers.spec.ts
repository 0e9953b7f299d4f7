import 'reflect-metadata';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import {
  OAuthClients,
  OAuthConfigError,
  TokenRequestError,
  type OAuthClientOptions,
  type OAuth2ClientOptions,
} from '../../lib/index.js';
import { FakeClock, startEmulator } from '../../lib/testing/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json } from '../support/recording-server.js';
import { startTokenServer, type TokenServer } from '../http/http-support.js';

/**
 * `clientSecret` (and `privateKey`) as a function: a secret manager, asked for each token request,
 * never cached by the library; a rotation at the secret manager is picked up after one
 * `invalid_client`; a provider that throws or hangs fails the request without quoting anything.
 */
const { track } = closeAfterEach();

const SECRET = 'vault-secret-v1-0f3c9a';
const ROTATED = 'vault-secret-v2-7d21b4';

/** A secret manager: hands out `values` in turn (the last one for ever), counting the calls. */
function vault(...values: string[]) {
  const queue = [...values];
  const provider = Object.assign(
    async () => {
      provider.calls++;
      return queue.length > 1 ? queue.shift()! : queue[0]!;
    },
    { calls: 0 },
  );
  return provider;
}

async function boot(clients: Record<string, OAuthClientOptions>, options: object = {}): Promise<Booted> {
  return track(await bootOAuth(clients, { retry: { maxAttempts: 1 }, ...options }));
}

/** Boots client `api` (oauth2 at `tokens`, clientId `svc`) with `credentials`; what its first token request fails with. */
async function tokenErrorOf(
  tokens: TokenServer,
  credentials: Partial<OAuth2ClientOptions>,
): Promise<TokenRequestError> {
  const app = await boot({ api: { strategy: 'oauth2', tokenUrl: tokens.tokenUrl, clientId: 'svc', ...credentials } });
  return (await app.tokens.getToken('api').catch((e: unknown) => e)) as TokenRequestError;
}

describe('a clientSecret provider', () => {
  it('is called for each token request and its value sent; the cached token does not depend on it', async () => {
    const emulator = track(await startEmulator('youhodler', { clientId: 'svc', clientSecret: SECRET }));
    const secret = vault(SECRET);
    const app = await boot({ yh: emulator.clientOptions({ clientSecret: secret }) });

    const first = await app.tokens.getToken('yh');
    expect(await app.tokens.getToken('yh')).toEqual(first); // cached: no request, no call
    expect(secret.calls).toBe(1);
    expect(JSON.parse(emulator.tokenRequests[0]!.body)).toMatchObject({ client_id: 'svc', client_secret: SECRET });

    await app.tokens.getToken('yh', { forceRefresh: true });
    expect(secret.calls).toBe(2);
    expect(emulator.tokenRequests).toHaveLength(2);
  });

  it('after invalid_client it is asked once more; a changed value is retried once and wins', async () => {
    const emulator = track(await startEmulator('palisade', { clientId: 'svc', clientSecret: ROTATED }));
    // The secret manager's client still had the old value cached on the first read.
    const secret = vault(SECRET, ROTATED);
    const app = await boot({ pal: emulator.clientOptions({ clientSecret: secret }) });

    await expect(app.tokens.getToken('pal')).resolves.toMatchObject({ tokenType: expect.any(String) });
    expect(secret.calls).toBe(2);
    expect(emulator.tokenRequests.map((r) => JSON.parse(r.body).clientSecret)).toEqual([SECRET, ROTATED]);
    expect(app.logger.text()).not.toContain(ROTATED);
  });

  it('the same value after invalid_client is not retried; two refusals are never more than two requests', async () => {
    const emulator = track(await startEmulator('palisade', { clientId: 'svc', clientSecret: 'what-the-server-wants' }));
    const same = vault(SECRET);
    const app = await boot({ pal: emulator.clientOptions({ clientSecret: same }) });
    await expect(app.tokens.getToken('pal')).rejects.toMatchObject({ code: 'invalid_client', attempts: 1 });
    expect(same.calls).toBe(2);
    expect(emulator.tokenRequests).toHaveLength(1);

    const changing = vault('wrong-1', 'wrong-2', 'wrong-3');
    await app.moduleRef.get(OAuthClients).add('pal2', emulator.clientOptions({ clientSecret: changing }));
    await expect(app.tokens.getToken('pal2')).rejects.toMatchObject({ code: 'invalid_client', attempts: 2 });
    expect(changing.calls).toBe(2);
    expect(emulator.tokenRequests).toHaveLength(3);
  });

  it('a provider that throws fails the request with TokenRequestError naming the client, never the value', async () => {
    const tokens = track(await startTokenServer());
    const error = await tokenErrorOf(tokens, {
      clientSecret: () => {
        throw new Error(`vault unreachable while reading ${SECRET}`);
      },
    });
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toContain('OAuth client "api"');
    expect(error.message).toContain('clientSecret provider');
    for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: 5 })]) {
      expect(text).not.toContain(SECRET);
    }
    expect(tokens.count).toBe(0);
  });

  it('a provider that does not settle within timeoutMs is a timeout naming the client', async () => {
    const tokens = track(await startTokenServer());
    const error = await tokenErrorOf(tokens, {
      clientSecret: () => new Promise<string>(() => undefined),
      timeoutMs: 30,
    });
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ client: 'api', code: 'timeout' });
    expect(error.message).toMatch(/OAuth client "api".*clientSecret provider did not answer within 30 ms/);
    expect(tokens.count).toBe(0);
  });

  it('the value used is redacted from what the token endpoint echoes back', async () => {
    const tokens = track(await startTokenServer());
    tokens.route('POST /oauth/token', (req, res) =>
      json(res, 400, { error: 'invalid_request', error_description: `bad secret ${req.body}` }),
    );
    const error = await tokenErrorOf(tokens, {
      authMethod: 'client_secret_post',
      clientSecret: async () => 'a secret+with/form&chars',
    });
    expect(error.code).toBe('invalid_request');
    expect(error.description).toContain('[redacted]');
    for (const text of [error.message, JSON.stringify(error)]) {
      expect(text).not.toContain('a secret+with/form&chars');
      expect(text).not.toContain(new URLSearchParams({ s: 'a secret+with/form&chars' }).toString().slice(2));
    }
  });

  it('boot accepts a function; anything but a non-empty string or a function is an OAuthConfigError', async () => {
    const tokens = track(await startTokenServer());
    const good = { strategy: 'oauth2' as const, tokenUrl: tokens.tokenUrl, clientId: 'svc' };
    await boot({ api: { ...good, clientSecret: () => 's' } });
    const error = await bootOAuth({ api: { ...good, clientSecret: 42 as never } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect(error).toMatchObject({ client: 'api', field: 'clientSecret' });
  });

  it('setCredentials with a string replaces the provider', async () => {
    const emulator = track(await startEmulator('youhodler', { clientId: 'svc', clientSecret: SECRET }));
    const secret = vault(SECRET);
    const app = await boot({ yh: emulator.clientOptions({ clientSecret: secret }) });
    await app.tokens.getToken('yh');
    emulator.setCredentials({ clientSecret: ROTATED });
    await app.tokens.setCredentials('yh', { clientSecret: ROTATED });
    await app.tokens.getToken('yh');
    expect(secret.calls).toBe(1);
    expect(JSON.parse(emulator.tokenRequests[1]!.body).client_secret).toBe(ROTATED);
  });
});

describe('a privateKey provider (private_key_jwt)', () => {
  const keyPair = (kid: string) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), kid, alg: 'ES256', use: 'sig' };
    return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), jwk };
  };

  it('signs with the key it gives for each request; a rotated key is picked up after invalid_client', async () => {
    const clock = new FakeClock();
    const old = keyPair('k-old');
    const current = keyPair('k-new');
    const emulator = track(
      await startEmulator('oauth2', { authMethods: ['private_key_jwt'], jwks: { keys: [current.jwk] }, clock }),
    );
    let calls = 0;
    const keys = [old.pem, current.pem];
    const app = await boot(
      {
        api: emulator.clientOptions({
          clientSecret: undefined,
          privateKey: async () => keys[Math.min(calls++, 1)]!,
          keyId: 'k-new',
        } as Partial<OAuth2ClientOptions>),
      },
      { clock },
    );

    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(calls).toBe(2);
    expect(emulator.tokenRequests).toHaveLength(2);
    await app.tokens.getToken('api', { forceRefresh: true });
    expect(calls).toBe(3);
  });

  it('an unusable key is a TokenRequestError naming the client and the problem, never the key', async () => {
    const tokens = track(await startTokenServer());
    const error = await tokenErrorOf(tokens, {
      authMethod: 'private_key_jwt',
      privateKey: async () => '-----BEGIN PRIVATE KEY-----\nnot-a-key-0f3c9a\n-----END PRIVATE KEY-----',
    });
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toContain('OAuth client "api"');
    expect(error.message).toContain('privateKey');
    expect(JSON.stringify(error)).not.toContain('not-a-key-0f3c9a');
    expect(tokens.count).toBe(0);
  });
});
