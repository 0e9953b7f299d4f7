import 'reflect-metadata';
import type { ServerResponse } from 'node:http';
import { HttpService } from '@nestjs/axios';
import { describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { TokenRequestError, type OAuth2ClientOptions } from '../../lib/index.js';
import { bootHttp } from '../http/http-support.js';
import { bootOAuth, flushMicrotasks, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { closedPort } from '../support/connect-proxy.js';
import { deferred } from '../support/deferred.js';
import { startHttpsTokenServer } from '../support/https-token-server.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import { tlsFixtures } from '../support/tls-fixtures.js';
import { decodeJws, keyPairFor } from './jws-support.js';

/**
 * `issuer` instead of `tokenUrl`: the token endpoint read from the authorization server's
 * metadata (RFC 8414, OpenID Connect Discovery), on real servers, with the injected clock.
 */
const cleanup = closeAfterEach();
const { privateKey } = keyPairFor('ES256');

interface AuthServer extends RecordingServer {
  /** The paths of the metadata requests received, in order. */
  metadataPaths(): string[];
  tokenRequests(): number;
}

/** A token endpoint at `POST /oauth/token` handing out `AT-1`, `AT-2`, …; metadata routes are the test's. */
async function authServer(): Promise<AuthServer> {
  let issued = 0;
  const server = await startRecordingServer({
    'POST /oauth/token': (_req, res) => json(res, 200, { access_token: `AT-${++issued}`, expires_in: 3600 }),
  });
  return cleanup.track(
    Object.assign(server, {
      metadataPaths: () => server.requests.filter((r) => r.path.includes('/.well-known/')).map((r) => r.path),
      tokenRequests: () => server.requests.filter((r) => r.method === 'POST').length,
    }),
  );
}

const metadata = (server: RecordingServer, issuer = server.url, extra: object = {}) => ({
  issuer,
  token_endpoint: `${server.url}/oauth/token`,
  jwks_uri: `${server.url}/jwks`,
  ...extra,
});
const answer =
  (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  (_req: unknown, res: ServerResponse) =>
    json(res, status, body, headers);
const notFound = answer({ error: 'not_found' }, 404);

const client = (issuer: string, options: Partial<OAuth2ClientOptions> = {}) =>
  ({
    strategy: 'oauth2',
    issuer,
    clientId: 'svc',
    authMethod: 'private_key_jwt',
    privateKey,
    ...options,
  }) as OAuth2ClientOptions;

async function boot(issuer: string, options?: Partial<OAuth2ClientOptions>, moduleWide: object = {}) {
  return cleanup.track(await bootOAuth({ api: client(issuer, options) }, { retry: { maxAttempts: 1 }, ...moduleWide }));
}

describe('where the metadata is looked for', () => {
  it('RFC 8414 first; the token request goes to its token_endpoint; aud is the issuer', async () => {
    const as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', answer(metadata(as)));
    const app = await boot(as.url);

    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
    expect(as.metadataPaths()).toEqual(['/.well-known/oauth-authorization-server']);
    const post = as.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe('/oauth/token');
    const assertion = new URLSearchParams(post.body).get('client_assertion')!;
    expect(decodeJws(assertion).claims.aud).toBe(as.url);
  });

  it('then OpenID Connect Discovery', async () => {
    const as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', notFound);
    as.route('GET /.well-known/openid-configuration', answer(metadata(as)));
    const app = await boot(as.url);
    await app.tokens.getToken('api');
    expect(as.metadataPaths()).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]);
  });

  it('an issuer with a path: RFC 8414 §3.1 inserts the well-known part before the path', async () => {
    const as = await authServer();
    const issuer = `${as.url}/tenants/acme`;
    as.route('GET /.well-known/oauth-authorization-server/tenants/acme', answer(metadata(as, issuer)));
    const app = await boot(issuer);
    await app.tokens.getToken('api');
    expect(as.metadataPaths()).toEqual(['/.well-known/oauth-authorization-server/tenants/acme']);
    const post = as.requests.find((r) => r.method === 'POST')!;
    expect(decodeJws(new URLSearchParams(post.body).get('client_assertion')!).claims.aud).toBe(issuer);
  });

  it('an issuer with a path: OpenID appends to the issuer, then the RFC 8414 §5 position', async () => {
    const as = await authServer();
    const issuer = `${as.url}/tenants/acme`;
    as.route('GET /.well-known/oauth-authorization-server/tenants/acme', notFound);
    as.route('GET /tenants/acme/.well-known/openid-configuration', notFound);
    as.route('GET /.well-known/openid-configuration/tenants/acme', answer(metadata(as, issuer)));
    const app = await boot(issuer);
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
    expect(as.metadataPaths()).toEqual([
      '/.well-known/oauth-authorization-server/tenants/acme',
      '/tenants/acme/.well-known/openid-configuration',
      '/.well-known/openid-configuration/tenants/acme',
    ]);
  });

  it('the OpenID document appended to a path issuer wins over the §5 position', async () => {
    const as = await authServer();
    const issuer = `${as.url}/realms/main`;
    as.route('GET /.well-known/oauth-authorization-server/realms/main', notFound);
    as.route('GET /realms/main/.well-known/openid-configuration', answer(metadata(as, issuer)));
    const app = await boot(issuer);
    await app.tokens.getToken('api');
    expect(as.metadataPaths()).toEqual([
      '/.well-known/oauth-authorization-server/realms/main',
      '/realms/main/.well-known/openid-configuration',
    ]);
  });
});

describe('what the metadata must say', () => {
  it('another issuer is a TokenRequestError invalid_response, and no token request is sent', async () => {
    const as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', answer(metadata(as, `${as.url}/`)));
    const app = await boot(as.url);
    const error = await app.tokens.getToken('api').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ client: 'api', code: 'invalid_response' });
    expect((error as Error).message).toContain(`not "${as.url}"`);
    expect(as.tokenRequests()).toBe(0);
  });

  it('no metadata at any well-known URL is invalid_response naming the issuer', async () => {
    const as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', notFound);
    as.route('GET /.well-known/openid-configuration', notFound);
    const app = await boot(as.url);
    const error = (await app.tokens.getToken('api').catch((e: unknown) => e)) as TokenRequestError;
    expect(error).toMatchObject({ code: 'invalid_response', client: 'api' });
    expect(error.description).toContain(`issuer "${as.url}"`);
  });

  it('a 503 at the well-known URLs is retryable; a later attempt reads the metadata', async () => {
    const as = await authServer();
    let calls = 0;
    as.route('GET /.well-known/oauth-authorization-server', (req, res) =>
      ++calls <= 1 ? json(res, 503, {}) : answer(metadata(as))(req, res),
    );
    as.route('GET /.well-known/openid-configuration', notFound);
    const app = await boot(as.url, {}, { retry: { maxAttempts: 2 } });
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
  });

  it('a token_endpoint that is no http(s) URL is invalid_response', async () => {
    const as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', answer({ issuer: as.url, token_endpoint: 'urn:x' }));
    const app = await boot(as.url);
    await expect(app.tokens.getToken('api')).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('with tls, mtls_endpoint_aliases.token_endpoint is used (RFC 8705 §5); without, token_endpoint', async () => {
    const pki = await tlsFixtures();
    const as = await authServer();
    const mtls = cleanup.track(await startHttpsTokenServer());
    as.route(
      'GET /.well-known/oauth-authorization-server',
      answer(metadata(as, as.url, { mtls_endpoint_aliases: { token_endpoint: `${mtls.url}/oauth/token` } })),
    );
    const tls = { cert: pki.clientCert, key: pki.clientKey, ca: pki.ca };
    const app = cleanup.track(
      await bootOAuth({
        certified: client(as.url, { authMethod: 'tls_client_auth', privateKey: undefined, tls }),
        plain: client(as.url),
      }),
    );
    await app.tokens.getToken('certified');
    await app.tokens.getToken('plain');
    expect(mtls.requests.map((r) => new URLSearchParams(r.body).get('client_id'))).toEqual(['svc']);
    expect(as.tokenRequests()).toBe(1);
  });
});

describe('one metadata request, cached', () => {
  it('however many concurrent callers: exactly one metadata request', async () => {
    const as = await authServer();
    const release = deferred();
    as.route('GET /.well-known/oauth-authorization-server', async (req, res) => {
      await release.promise;
      answer(metadata(as))(req, res);
    });
    const app = await boot(as.url);
    // Different scopes: each is its own token request, so only discovery can share.
    const calls = Array.from({ length: 25 }, (_, i) => app.tokens.getToken('api', { scope: `s${i}` }));
    while (as.metadataPaths().length === 0) await flushMicrotasks(1);
    await flushMicrotasks(20);
    release.resolve();
    const tokens = await Promise.all(calls);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(25);
    expect(as.metadataPaths()).toHaveLength(1);
    expect(as.tokenRequests()).toBe(25);
  });

  it("is kept for the answer's max-age, by the injected clock", async () => {
    const as = await authServer();
    as.route(
      'GET /.well-known/oauth-authorization-server',
      answer(metadata(as), 200, { 'cache-control': 'public, max-age=60' }),
    );
    const app = await boot(as.url);
    await app.tokens.getToken('api', { scope: 'a' });
    app.clock.advance(59_000);
    await app.tokens.getToken('api', { scope: 'b' });
    expect(as.metadataPaths()).toHaveLength(1);
    app.clock.advance(1_000);
    await app.tokens.getToken('api', { scope: 'c' });
    expect(as.metadataPaths()).toHaveLength(2);
    expect(as.tokenRequests()).toBe(3);
  });

  it('is kept for 24 hours when the answer says nothing', async () => {
    const as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', answer(metadata(as)));
    const app = await boot(as.url);
    await app.tokens.getToken('api', { scope: 'a' });
    app.clock.advance(24 * 3600_000 - 1);
    await app.tokens.getToken('api', { scope: 'b' });
    expect(as.metadataPaths()).toHaveLength(1);
    app.clock.advance(1);
    await app.tokens.getToken('api', { scope: 'c' });
    expect(as.metadataPaths()).toHaveLength(2);
  });

  it('is read again after the token endpoint answered 404 (it moved)', async () => {
    const as = await authServer();
    let tokenPath = '/old/token';
    as.route('POST /old/token', notFound);
    as.route('GET /.well-known/oauth-authorization-server', (req, res) =>
      answer(metadata(as, as.url, { token_endpoint: `${as.url}${tokenPath}` }))(req, res),
    );
    const app = await boot(as.url);
    await expect(app.tokens.getToken('api')).rejects.toMatchObject({ status: 404 });
    tokenPath = '/oauth/token';
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
    expect(as.metadataPaths()).toHaveLength(2);
  });

  it('is read again after a network error at the token endpoint, within the same request', async () => {
    const as = await authServer();
    let tokenEndpoint = `http://127.0.0.1:${await closedPort()}/oauth/token`;
    as.route('GET /.well-known/oauth-authorization-server', (req, res) => {
      const body = metadata(as, as.url, { token_endpoint: tokenEndpoint });
      tokenEndpoint = `${as.url}/oauth/token`; // the next read names the live one
      answer(body)(req, res);
    });
    const app = await boot(as.url, {}, { retry: { maxAttempts: 2 } });
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'AT-1' });
    expect(as.metadataPaths()).toHaveLength(2);
  });

  it('is not read again after other failures (a 400 from the token endpoint)', async () => {
    const as = await authServer();
    as.route('POST /oauth/token', answer({ error: 'invalid_client' }, 400));
    as.route('GET /.well-known/oauth-authorization-server', answer(metadata(as)));
    const app = await boot(as.url);
    await expect(app.tokens.getToken('api')).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(app.tokens.getToken('api')).rejects.toMatchObject({ code: 'invalid_client' });
    expect(as.metadataPaths()).toHaveLength(1);
  });
});

describe('the discovered token endpoint never gets a bearer token', () => {
  let as: AuthServer;
  const echo = (req: { headers: Record<string, unknown> }, res: ServerResponse) =>
    json(res, 200, { authorization: req.headers.authorization ?? null });

  async function httpApp(): Promise<{ app: Booted; http: HttpService }> {
    as = await authServer();
    as.route('GET /.well-known/oauth-authorization-server', answer(metadata(as)));
    as.route('GET /api/data', echo);
    as.route('GET /oauth/token', echo);
    const app = cleanup.track(await bootHttp({ api: client(as.url, { attachTo: [as.url] }) }));
    return { app, http: app.moduleRef.get(HttpService) };
  }
  const authorization = async (http: HttpService, path: string) =>
    (await firstValueFrom(http.get<{ authorization: string | null }>(`${as.url}${path}`))).data.authorization;

  it('once discovered, a call to it goes without the token the prefix would give', async () => {
    const { http } = await httpApp();
    expect(await authorization(http, '/api/data')).toBe('Bearer AT-1');
    expect(await authorization(http, '/oauth/token')).toBeNull();
  });

  it('even when the call itself is what discovered it', async () => {
    const { http } = await httpApp();
    expect(await authorization(http, '/oauth/token')).toBeNull();
    expect(await authorization(http, '/api/data')).toBe('Bearer AT-1');
  });
});
