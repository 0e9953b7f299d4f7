import 'reflect-metadata';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { inspect } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TokenRequestError, type OAuthClientOptions, type OAuthModuleOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { closedPort, startConnectProxy, type ConnectProxyOptions } from '../support/connect-proxy.js';
import { MTLS_TOKEN, startHttpsTokenServer } from '../support/https-token-server.js';
import { json, startRecordingServer } from '../support/recording-server.js';
import {
  CLIENT_CN,
  CLIENT_KEY_PASSPHRASE,
  pemBodyLines,
  tlsFixtures,
  type TlsFixtures,
} from '../support/tls-fixtures.js';

/**
 * The token request's own transport: TLS material (mutual TLS, a private CA) and a forward proxy,
 * per client or module-wide, against real servers on 127.0.0.1. A client's `tls` or `proxy`
 * replaces the module-wide one as a whole.
 */
const SECRET = 's3cret-value';
const PROXY_PASSWORD = 'pa55word';
const WRONG_PASSPHRASE = 'wr0ng-pa55phrase-91c4';
const PLAIN_TOKEN = { access_token: 'AT-plain-1', token_type: 'Bearer', expires_in: 3600 };

let pki: TlsFixtures;
beforeAll(async () => {
  pki = await tlsFixtures();
});

const cleanup = closeAfterEach();

// Proxy variables of the machine running the tests must not leak in; each test sets its own.
const PROXY_ENV = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
let savedEnv: Partial<Record<(typeof PROXY_ENV)[number], string>> = {};
beforeEach(() => {
  savedEnv = {};
  for (const name of PROXY_ENV) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
});
afterEach(() => {
  for (const name of PROXY_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

const mtlsServer = async () => cleanup.track(await startHttpsTokenServer());
const proxyServer = async (options?: ConnectProxyOptions) => cleanup.track(await startConnectProxy(options));
const plainServer = async () =>
  cleanup.track(await startRecordingServer({ 'POST /oauth/token': (_req, res) => json(res, 200, PLAIN_TOKEN) }));

const oauth2 = (tokenUrl: string, transport: Partial<OAuthClientOptions> = {}) =>
  ({ strategy: 'oauth2', tokenUrl, clientId: 'id', clientSecret: SECRET, ...transport }) as OAuthClientOptions;

/** Boots one client `api`; one attempt per token so failures are immediate. Closed after the test. */
async function boot(api: OAuthClientOptions, moduleWide: Partial<OAuthModuleOptions> = {}): Promise<Booted> {
  return cleanup.track(await bootOAuth({ api }, { retry: { maxAttempts: 1 }, ...moduleWide }));
}

async function tokenFailure(app: Booted): Promise<TokenRequestError> {
  const outcome = await app.tokens.getToken('api').then(
    (token) => ({ token }),
    (error: unknown) => ({ error }),
  );
  expect(outcome).not.toHaveProperty('token');
  const { error } = outcome as { error: unknown };
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
}

/** Every form in which an error or the module's logs could carry what the options held. */
function everyText(error: TokenRequestError, app: Booted): string[] {
  return [
    error.message,
    error.description ?? '',
    String(error.stack),
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
    error.cause instanceof Error ? `${error.cause.message}\n${error.cause.stack}` : String(error.cause ?? ''),
    app.logger.text(),
  ];
}

function expectNoneOf(texts: string[], secrets: string[]): void {
  for (const text of texts) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

/** Nothing of either form of the client's private key, nor its passphrase. */
const keySecrets = () => [
  ...pemBodyLines(pki.clientKey),
  ...pemBodyLines(pki.clientKeyEncrypted),
  CLIENT_KEY_PASSPHRASE,
  WRONG_PASSPHRASE,
];

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the fixtures themselves', () => {
  /** Sends a client-credentials form on the request `open` makes; the status and text of the answer. */
  const postTokenForm = (open: () => ClientRequest) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = open(); // in here: a request that cannot even start rejects, it does not throw
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end('grant_type=client_credentials');
    });

  /** A direct `node:https` token request to the mTLS server, no library involved. */
  const rawPost = (port: number, options: RequestOptions) =>
    postTokenForm(() =>
      httpsRequest({ host: '127.0.0.1', port, method: 'POST', path: '/oauth/token', agent: false, ...options }),
    );

  it('the server answers a client presenting the CA-signed certificate, and sees its CN', async () => {
    const server = await mtlsServer();
    const answer = await rawPost(server.port, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    expect(answer).toEqual({ status: 200, body: JSON.stringify(MTLS_TOKEN) });
    expect(server.requests.map((r) => [r.method, r.path, r.clientCN])).toEqual([['POST', '/oauth/token', CLIENT_CN]]);
  });

  it('the server certificate is valid for 127.0.0.1 and for localhost', async () => {
    const server = await mtlsServer();
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    expect((await rawPost(server.port, { ...tls, servername: 'localhost' })).status).toBe(200);
    expect((await rawPost(server.port, tls)).status).toBe(200);
  });

  it('the encrypted key works with its passphrase only', async () => {
    const server = await mtlsServer();
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKeyEncrypted };
    expect(pki.clientKeyEncrypted).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect((await rawPost(server.port, { ...tls, passphrase: CLIENT_KEY_PASSPHRASE })).status).toBe(200);
    await expect(rawPost(server.port, { ...tls, passphrase: WRONG_PASSPHRASE })).rejects.toThrow();
  });

  it('the server refuses a client without a certificate; the client refuses an unknown CA', async () => {
    const server = await mtlsServer();
    await expect(rawPost(server.port, { ca: pki.ca })).rejects.toThrow();
    await expect(rawPost(server.port, { cert: pki.clientCert, key: pki.clientKey })).rejects.toThrow(/certificate/i);
    expect(server.requests).toEqual([]);
    expect(server.tlsErrors.length).toBeGreaterThanOrEqual(1);
  });

  it('the proxy forwards absolute-form requests and tunnels CONNECT, recording both', async () => {
    const plain = await plainServer();
    const server = await mtlsServer();
    const proxy = await proxyServer();
    const forwarded = await postTokenForm(() =>
      httpRequest({
        host: '127.0.0.1',
        port: proxy.port,
        method: 'POST',
        path: `${plain.url}/oauth/token`,
        headers: { 'proxy-authorization': basic('u', 'p') },
        agent: false,
      }),
    );
    expect(forwarded).toEqual({ status: 200, body: JSON.stringify(PLAIN_TOKEN) });
    expect(plain.requests.map((r) => [r.path, r.headers['proxy-authorization']])).toEqual([
      ['/oauth/token', undefined],
    ]);

    const tunnel = await new Promise<Socket>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: proxy.port,
        method: 'CONNECT',
        path: `127.0.0.1:${server.port}`,
        agent: false,
      });
      req.on('connect', (res, socket: Socket) =>
        res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT ${res.statusCode}`)),
      );
      req.on('error', reject);
      req.end();
    });
    const tunnelled = await postTokenForm(() =>
      httpsRequest({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/oauth/token',
        // With createConnection and no agent, the request runs on this very socket.
        createConnection: () =>
          tlsConnect({
            socket: tunnel,
            servername: 'localhost',
            ca: pki.ca,
            cert: pki.clientCert,
            key: pki.clientKey,
          }),
      }),
    );
    tunnel.destroy();
    expect(tunnelled).toEqual({ status: 200, body: JSON.stringify(MTLS_TOKEN) });
    expect(server.requests.map((r) => r.clientCN)).toEqual([CLIENT_CN]);
    expect(proxy.records).toEqual([
      { method: 'POST', url: `${plain.url}/oauth/token`, proxyAuthorization: basic('u', 'p') },
      { method: 'CONNECT', target: `127.0.0.1:${server.port}`, proxyAuthorization: undefined },
    ]);
  });

  it('a refusing proxy answers CONNECT with its status', async () => {
    const proxy = await proxyServer({ refuse: 407 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: '127.0.0.1:9' });
      req.on('connect', (res, socket: Socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(407);
    expect(proxy.records).toEqual([{ method: 'CONNECT', target: '127.0.0.1:9', proxyAuthorization: undefined }]);
  });
});

describe('mutual TLS for the token request', () => {
  it('with ca, cert and key the token arrives and the server saw the client certificate', async () => {
    const server = await mtlsServer();
    const app = await boot(
      oauth2(`${server.url}/oauth/token`, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
    );
    const token = await app.tokens.getToken('api');
    expect(token.accessToken).toBe('AT-mtls-1');
    expect(server.requests.map((r) => [r.method, r.path, r.clientCN])).toEqual([['POST', '/oauth/token', CLIENT_CN]]);
    expect(new URLSearchParams(server.requests[0]!.body).get('grant_type')).toBe('client_credentials');
  });

  it('takes Buffers as well as PEM strings', async () => {
    const server = await mtlsServer();
    const tls = { ca: [Buffer.from(pki.ca)], cert: Buffer.from(pki.clientCert), key: Buffer.from(pki.clientKey) };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls }));
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-mtls-1');
    expect(server.requests.map((r) => r.clientCN)).toEqual([CLIENT_CN]);
  });

  it('with the ca only, the server demands a certificate: network_error', async () => {
    const server = await mtlsServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls: { ca: pki.ca } }));
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(error.status).toBeUndefined();
    expect(server.requests).toEqual([]);
  });

  it('without the ca, the server certificate is from an unknown CA: network_error, the key nowhere', async () => {
    const server = await mtlsServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls: { cert: pki.clientCert, key: pki.clientKey } }));
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(server.requests).toEqual([]);
    expectNoneOf(everyText(error, app), [...keySecrets(), SECRET]);
  });

  it('with the passphrase-protected key and its passphrase the token arrives', async () => {
    const server = await mtlsServer();
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKeyEncrypted, passphrase: CLIENT_KEY_PASSPHRASE };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls }));
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-mtls-1');
    expect(server.requests.map((r) => r.clientCN)).toEqual([CLIENT_CN]);
    expectNoneOf([app.logger.text()], keySecrets());
  });

  it('with the passphrase-protected key, an unknown CA fails with neither key nor passphrase anywhere', async () => {
    const server = await mtlsServer();
    const tls = { cert: pki.clientCert, key: pki.clientKeyEncrypted, passphrase: CLIENT_KEY_PASSPHRASE };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls }));
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expectNoneOf(everyText(error, app), keySecrets());
  });

  it('with a wrong passphrase no token is had, and neither key nor passphrase appears anywhere', async () => {
    const server = await mtlsServer();
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKeyEncrypted, passphrase: WRONG_PASSPHRASE };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls }));
    // A key that cannot be decrypted fails the TLS setup: a network_error, like any handshake failure.
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(server.requests).toEqual([]);
    expectNoneOf(everyText(error, app), keySecrets());
  });
});

describe('module-wide tls', () => {
  it('applies to a client that has none', async () => {
    const server = await mtlsServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`), {
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    });
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-mtls-1');
    expect(server.requests.map((r) => r.clientCN)).toEqual([CLIENT_CN]);
  });

  it("is replaced as a whole by a client's own tls: module cert+key+ca, client ca only → network_error", async () => {
    const server = await mtlsServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls: { ca: pki.ca } }), {
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKeyEncrypted, passphrase: CLIENT_KEY_PASSPHRASE },
    });
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(server.requests).toEqual([]);
    expectNoneOf(everyText(error, app), keySecrets());
  });

  it("a client's own complete tls works under a module-wide one that would fail", async () => {
    const server = await mtlsServer();
    const app = await boot(
      oauth2(`${server.url}/oauth/token`, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
      { tls: { ca: pki.ca } },
    );
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-mtls-1');
  });
});

describe('a proxy for the token request', () => {
  it('an http: token URL is sent to the proxy in absolute-form, and the token arrives', async () => {
    const server = await plainServer();
    const proxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { proxy: proxy.url }));
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(proxy.records).toEqual([
      { method: 'POST', url: `${server.url}/oauth/token`, proxyAuthorization: undefined },
    ]);
    expect(server.requests.map((r) => [r.method, r.path])).toEqual([['POST', '/oauth/token']]);
  });

  it('an https: token URL goes through a CONNECT tunnel, TLS (mutual) inside it', async () => {
    const server = await mtlsServer();
    const proxy = await proxyServer();
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls, proxy: proxy.url }));
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-mtls-1');
    expect(proxy.records).toEqual([
      { method: 'CONNECT', target: `127.0.0.1:${server.port}`, proxyAuthorization: undefined },
    ]);
    expect(server.requests.map((r) => r.clientCN)).toEqual([CLIENT_CN]);
  });

  it.each(['http', 'https'] as const)(
    'credentials in the proxy URL become Proxy-Authorization Basic (%s token URL)',
    async (scheme) => {
      const server = scheme === 'http' ? await plainServer() : await mtlsServer();
      const proxy = await proxyServer();
      const tls = scheme === 'https' ? { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } : undefined;
      const proxyUrl = `http://user:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
      const app = await boot(oauth2(`${server.url}/oauth/token`, { tls, proxy: proxyUrl }));
      await app.tokens.getToken('api');
      expect(proxy.records.map((r) => r.proxyAuthorization)).toEqual([basic('user', PROXY_PASSWORD)]);
      expect(app.logger.text()).not.toContain(PROXY_PASSWORD);
    },
  );

  it('a proxy refusing with 407: network_error, the proxy password nowhere', async () => {
    const server = await mtlsServer();
    const proxy = await proxyServer({ refuse: 407 });
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const proxyUrl = `http://user:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls, proxy: proxyUrl }));
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(proxy.records.map((r) => r.proxyAuthorization)).toEqual([basic('user', PROXY_PASSWORD)]);
    expect(server.requests).toEqual([]);
    const encoded = Buffer.from(`user:${PROXY_PASSWORD}`).toString('base64');
    expectNoneOf(everyText(error, app), [PROXY_PASSWORD, encoded, `user:${PROXY_PASSWORD}`, ...keySecrets()]);
  });

  it.each([407, 403] as const)('a proxy answering CONNECT with %i: network_error', async (status) => {
    const server = await mtlsServer();
    const proxy = await proxyServer({ refuse: status });
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls, proxy: proxy.url }));
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(proxy.records).toEqual([
      { method: 'CONNECT', target: `127.0.0.1:${server.port}`, proxyAuthorization: undefined },
    ]);
    expect(server.requests).toEqual([]);
  });

  it.each(['http', 'https'] as const)('a proxy URL on a closed port: network_error (%s token URL)', async (scheme) => {
    const server = scheme === 'http' ? await plainServer() : await mtlsServer();
    const tls = scheme === 'https' ? { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } : undefined;
    const app = await boot(
      oauth2(`${server.url}/oauth/token`, {
        tls,
        proxy: `http://user:${PROXY_PASSWORD}@127.0.0.1:${await closedPort()}`,
      }),
    );
    const error = await tokenFailure(app);
    expect(error.code).toBe('network_error');
    expect(server.requests).toEqual([]);
    expectNoneOf(everyText(error, app), [PROXY_PASSWORD]);
  });

  it('a module-wide proxy applies to a client that has none', async () => {
    const server = await plainServer();
    const proxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`), { proxy: proxy.url });
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(proxy.records).toEqual([
      { method: 'POST', url: `${server.url}/oauth/token`, proxyAuthorization: undefined },
    ]);
  });

  it("a client's own proxy replaces the module-wide one", async () => {
    const server = await plainServer();
    const moduleProxy = await proxyServer({ refuse: 403 });
    const clientProxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { proxy: clientProxy.url }), {
      proxy: moduleProxy.url,
    });
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(moduleProxy.records).toEqual([]);
    expect(clientProxy.records).toHaveLength(1);
  });
});

describe('proxyFromEnv', () => {
  // The variables are set after boot: they are read at request time.
  const absoluteForm = (url: string) => [{ method: 'POST', url: `${url}/oauth/token`, proxyAuthorization: undefined }];

  it('without proxyFromEnv, HTTP_PROXY is not used', async () => {
    const server = await plainServer();
    const proxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`));
    process.env.HTTP_PROXY = proxy.url;
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(proxy.records).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it.each(['HTTP_PROXY', 'http_proxy'] as const)('with proxyFromEnv: true, %s is used', async (variable) => {
    const server = await plainServer();
    const proxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { proxyFromEnv: true }));
    process.env[variable] = proxy.url;
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(proxy.records).toEqual(absoluteForm(server.url));
  });

  it('with proxyFromEnv: true, HTTPS_PROXY tunnels an https: token URL', async () => {
    const server = await mtlsServer();
    const proxy = await proxyServer();
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const app = await boot(oauth2(`${server.url}/oauth/token`, { tls, proxyFromEnv: true }));
    process.env.HTTPS_PROXY = proxy.url;
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-mtls-1');
    expect(proxy.records).toEqual([
      { method: 'CONNECT', target: `127.0.0.1:${server.port}`, proxyAuthorization: undefined },
    ]);
  });

  it.each(['NO_PROXY', 'no_proxy'] as const)('%s=127.0.0.1 keeps the request direct', async (variable) => {
    const server = await plainServer();
    const proxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { proxyFromEnv: true }));
    process.env.HTTP_PROXY = proxy.url;
    process.env[variable] = '127.0.0.1';
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(proxy.records).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('the variables are read per request, not at boot', async () => {
    const server = await plainServer();
    const proxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { proxyFromEnv: true }));
    await app.tokens.getToken('api');
    expect(proxy.records).toEqual([]);
    process.env.HTTP_PROXY = proxy.url;
    await app.tokens.getToken('api', { forceRefresh: true });
    expect(proxy.records).toEqual(absoluteForm(server.url));
  });

  it('an explicit proxy wins over the environment', async () => {
    const server = await plainServer();
    const envProxy = await proxyServer();
    const ownProxy = await proxyServer();
    const app = await boot(oauth2(`${server.url}/oauth/token`, { proxy: ownProxy.url, proxyFromEnv: true }));
    process.env.HTTP_PROXY = envProxy.url;
    expect((await app.tokens.getToken('api')).accessToken).toBe('AT-plain-1');
    expect(envProxy.records).toEqual([]);
    expect(ownProxy.records).toEqual(absoluteForm(server.url));
  });
});
