import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { isAxiosError, type AxiosError, type AxiosResponse } from 'axios';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { lastValueFrom } from 'rxjs';
import { OAuthConfigError, TokenRequestError, TokenService, type OAuthClientOptions } from '../../lib/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import {
  bootHttp,
  oauth2Client,
  startTokenServer,
  startUpstream,
  type Echo,
  type HttpApp,
  type TokenServer,
  type UpstreamServer,
} from './http-support.js';

const { track } = closeAfterEach();

let alphaTokens: TokenServer;
let betaTokens: TokenServer;
let alphaApi: UpstreamServer;
let betaApi: UpstreamServer;
let foreign: UpstreamServer;

beforeEach(async () => {
  alphaTokens = track(await startTokenServer('alpha'));
  betaTokens = track(await startTokenServer('beta', 'bearer'));
  alphaApi = track(await startUpstream());
  betaApi = track(await startUpstream());
  foreign = track(await startUpstream());
});

function clients(extra: Record<string, OAuthClientOptions> = {}): Record<string, OAuthClientOptions> {
  return {
    alpha: oauth2Client(alphaTokens, { attachTo: [alphaApi.url] }),
    beta: oauth2Client(betaTokens, { attachTo: [`${betaApi.url}/v2`] }),
    ...extra,
  };
}

async function boot(
  options: Parameters<typeof bootHttp>[1] = {},
  extraClients: Record<string, OAuthClientOptions> = {},
) {
  const app: HttpApp = track(await bootHttp(clients(extraClients), options));
  return { app, http: app.moduleRef.get(HttpService) };
}

const get = async (http: HttpService, url: string, config: Parameters<HttpService['get']>[1] = {}) =>
  (await lastValueFrom(http.get<Echo>(url, config))).data;

describe('which requests get a token', () => {
  it('attaches the client whose attachTo matches, via HttpService and via axiosRef', async () => {
    const { http } = await boot();
    expect((await get(http, `${alphaApi.url}/items`)).authorization).toBe('Bearer alpha-1');
    expect((await http.axiosRef.get<Echo>(`${alphaApi.url}/items`)).data.authorization).toBe('Bearer alpha-1');
    expect((await get(http, `${betaApi.url}/v2/items`)).authorization).toBe('Bearer beta-1');
    expect(alphaTokens.count).toBe(1);
    expect(betaTokens.count).toBe(1);
  });

  it('normalises a lowercase token_type to "Bearer" in the header', async () => {
    const { http } = await boot();
    expect(betaTokens.issued).toEqual([]);
    expect((await get(http, `${betaApi.url}/v2`)).authorization).toBe('Bearer beta-1');
  });

  it('sends nothing, and fetches nothing, for a URL no client claims', async () => {
    const { http } = await boot();
    await get(http, `${foreign.url}/items`);
    await get(http, `${betaApi.url}/v2x/items`); // /v2x is not under /v2
    await get(http, `${betaApi.url}/V2/items`); // paths are case-sensitive
    await get(http, `${betaApi.url}/items`); // above the prefix
    expect(foreign.authorizations()).toEqual([undefined]);
    expect(betaApi.authorizations()).toEqual([undefined, undefined, undefined]);
    expect(alphaTokens.count + betaTokens.count).toBe(0);
  });

  it('keeps the token off another port of the same host and off another scheme', async () => {
    const { http } = await boot(
      {},
      {
        secure: oauth2Client(alphaTokens, { attachTo: [foreign.url.replace('http:', 'https:')] }),
      },
    );
    await get(http, `${foreign.url}/items`); // http, the entry is https
    expect(foreign.authorizations()).toEqual([undefined]);
    expect(alphaApi.url.split(':')[1]).toBe(foreign.url.split(':')[1]); // same host, different port
    expect(alphaTokens.count).toBe(0);
  });

  it('is not fooled by userinfo: http://<attached origin>@<foreign>/ goes to the foreign server without a bearer', async () => {
    const { http } = await boot();
    const attached = alphaApi.url.replace('http://', '');
    await get(http, `http://${attached}@${foreign.url.replace('http://', '')}/items`);
    // axios turns the userinfo into the caller's own Basic credentials; no token was fetched for them.
    expect(foreign.authorizations()).toHaveLength(1);
    expect(foreign.authorizations()[0]).toMatch(/^Basic /);
    expect(alphaTokens.count).toBe(0);
  });

  it('resolves relative URLs against baseURL exactly as axios sends them', async () => {
    const { http } = await boot({ http: HttpModule.register({ baseURL: `${betaApi.url}/v2` }) });
    expect((await get(http, '/items')).authorization).toBe('Bearer beta-1'); // → /v2/items
    expect((await get(http, 'items')).authorization).toBe('Bearer beta-1');
    expect((await get(http, '../v2x/items')).authorization).toBeNull(); // axios combines, no dot-resolution into /v2
    expect((await get(http, `${foreign.url}/items`)).authorization).toBeNull(); // absolute URL beats baseURL
    expect(betaApi.requests.map((r) => r.path)).toEqual(['/v2/items', '/v2/items', '/v2x/items']);
  });

  it('with a baseURL that does not match, a path that looks like a matching URL gets nothing', async () => {
    const { http } = await boot({ http: HttpModule.register({ baseURL: foreign.url }) });
    await get(http, `/${alphaApi.url}/items`).catch(() => undefined);
    expect(alphaApi.requests).toHaveLength(0);
    expect(alphaTokens.count).toBe(0);
  });
});

describe('per-request selection', () => {
  it('{ oauth: false } sends no token even where attachTo matches', async () => {
    const { http } = await boot();
    expect((await get(http, `${alphaApi.url}/items`, { oauth: false })).authorization).toBeNull();
    expect(alphaTokens.count).toBe(0);
  });

  it("{ oauth: 'name' } attaches that client's token, also where its attachTo does not reach", async () => {
    const { http } = await boot();
    expect((await get(http, `${foreign.url}/items`, { oauth: 'beta' })).authorization).toBe('Bearer beta-1');
    expect((await get(http, `${alphaApi.url}/items`, { oauth: 'beta' })).authorization).toBe('Bearer beta-1');
    expect(alphaTokens.count).toBe(0);
  });

  it('{ oauth: { scope } } keeps the attachTo match and asks for that scope', async () => {
    const { http } = await boot();
    expect((await get(http, `${alphaApi.url}/items`, { oauth: { scope: ['b', 'a'] } })).authorization).toBe(
      'Bearer alpha-1',
    );
    expect(new URLSearchParams(alphaTokens.requests[0]!.body).get('scope')).toBe('a b');
    // A different scope is a different token.
    expect((await get(http, `${alphaApi.url}/items`)).authorization).toBe('Bearer alpha-2');
  });

  it('{ oauth: { client, scope } } picks both', async () => {
    const { http } = await boot();
    expect((await get(http, `${foreign.url}/items`, { oauth: { client: 'alpha', scope: 'read' } })).authorization).toBe(
      'Bearer alpha-1',
    );
    expect(new URLSearchParams(alphaTokens.requests[0]!.body).get('scope')).toBe('read');
  });

  it('an unknown client name rejects with OAuthConfigError naming it, and nothing is sent', async () => {
    const { http } = await boot();
    const error = await get(http, `${alphaApi.url}/items`, { oauth: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect((error as OAuthConfigError).message).toContain('"nope"');
    const objectForm = await get(http, `${alphaApi.url}/items`, { oauth: { client: 'nope' } }).catch((e: unknown) => e);
    expect(objectForm).toBeInstanceOf(OAuthConfigError);
    const malformed = await get(http, `${alphaApi.url}/items`, { oauth: 42 as never }).catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(OAuthConfigError);
    expect((malformed as OAuthConfigError).message).toContain('"oauth"');
    expect(alphaApi.requests).toHaveLength(0);
  });
});

describe('headers that are not ours', () => {
  it('never overwrites an Authorization header the caller set, and fetches no token for it', async () => {
    const { http } = await boot();
    expect(
      (await get(http, `${alphaApi.url}/items`, { headers: { authorization: 'Bearer mine' } })).authorization,
    ).toBe('Bearer mine');
    expect(
      (await get(http, `${alphaApi.url}/items`, { headers: { Authorization: 'Basic eDp5' }, oauth: 'alpha' }))
        .authorization,
    ).toBe('Basic eDp5');
    expect((await get(http, `${alphaApi.url}/items`, { auth: { username: 'u', password: 'p' } })).authorization).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    expect(alphaTokens.count).toBe(0);
  });

  it('keeps an Authorization header set as a default of an HttpModule.register instance', async () => {
    const { http } = await boot({ http: HttpModule.register({ headers: { Authorization: 'Token static' } }) });
    expect((await get(http, `${alphaApi.url}/items`)).authorization).toBe('Token static');
    expect(alphaTokens.count).toBe(0);
  });

  it('never sends a bearer to a token endpoint, even one inside an attachTo prefix', async () => {
    const { http } = await boot({}, { self: oauth2Client(alphaTokens, { attachTo: [alphaTokens.url] }) });
    alphaTokens.route('POST /oauth/token/', (_req, res) => json(res, 200, {}));
    await lastValueFrom(http.post(alphaTokens.tokenUrl, 'grant_type=client_credentials'));
    await lastValueFrom(http.post(`${alphaTokens.tokenUrl}/`, 'grant_type=client_credentials', { oauth: 'self' }));
    const tokenRequests = alphaTokens.requests.filter((r) => r.path.startsWith('/oauth/token'));
    expect(tokenRequests).toHaveLength(2);
    for (const request of tokenRequests) expect(request.headers.authorization ?? '').not.toMatch(/^bearer/i);
  });

  it('the token requests the library makes itself carry no bearer', async () => {
    const { http } = await boot();
    await get(http, `${alphaApi.url}/items`);
    expect(alphaTokens.requests).toHaveLength(1);
    expect(alphaTokens.requests[0]!.headers.authorization).toMatch(/^Basic /);
  });
});

describe('redirects', () => {
  let redirector: RecordingServer;
  beforeEach(async () => {
    redirector = track(await startRecordingServer());
  });

  const redirectTo = (location: string) => (_req: unknown, res: ServerResponse) => {
    res.writeHead(302, { location }).end();
  };

  it('a 302 to another origin does not carry the token; a same-origin redirect does', async () => {
    redirector.route('GET /away', redirectTo(`${foreign.url}/items`));
    redirector.route('GET /home', redirectTo('/landing'));
    redirector.route('GET /landing', (req, res) =>
      json(res, 200, { authorization: req.headers.authorization ?? null }),
    );
    const { http } = await boot({}, { redir: oauth2Client(alphaTokens, { attachTo: [redirector.url] }) });

    expect((await get(http, `${redirector.url}/away`)).path).toBe('/items');
    expect(redirector.requests[0]!.headers.authorization).toBe('Bearer alpha-1');
    expect(foreign.authorizations()).toEqual([undefined]);

    expect((await get(http, `${redirector.url}/home`)).authorization).toBe('Bearer alpha-1');
  });

  it('strips the token in beforeRedirect whatever follow-redirects decides, after the caller’s own hook', async () => {
    const { http } = await boot();
    const seen: string[] = [];
    const response = await lastValueFrom(
      http.get<Echo>(`${alphaApi.url}/items`, { beforeRedirect: (options) => void seen.push(String(options.href)) }),
    );
    const beforeRedirect = response.config.beforeRedirect!;
    const details = [
      { headers: {}, statusCode: 302 },
      { headers: {}, url: '', method: 'GET' },
    ] as const;

    const sub = {
      href: `${alphaApi.url.replace('127.0.0.1', 'sub.127.0.0.1')}/x`,
      headers: { Authorization: 'Bearer alpha-1', accept: '*/*' },
    };
    beforeRedirect(sub, ...details);
    expect(sub.headers).toEqual({ accept: '*/*' });

    const same = { href: `${alphaApi.url}/elsewhere`, headers: { authorization: 'Bearer alpha-1' } };
    beforeRedirect(same, ...details);
    expect(same.headers).toEqual({ authorization: 'Bearer alpha-1' });
    expect(seen).toHaveLength(2);
  });
});

describe('redirects: whose 401, and never to a token endpoint', () => {
  let redirector: RecordingServer;
  beforeEach(async () => {
    redirector = track(await startRecordingServer());
  });

  it('a 401 from another origin reached by a redirect neither drops the token nor retries', async () => {
    const refusing = track(await startUpstream(() => false));
    redirector.route('GET /away', (_req, res) => void res.writeHead(307, { location: `${refusing.url}/items` }).end());
    const { http } = await boot({}, { redir: oauth2Client(alphaTokens, { attachTo: [redirector.url] }) });

    for (let call = 0; call < 3; call++) {
      const error = await get(http, `${redirector.url}/away`).catch((e: unknown) => e);
      expect(isAxiosError(error) && error.response?.status).toBe(401);
    }
    expect(alphaTokens.count).toBe(1);
    expect(redirector.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer alpha-1',
      'Bearer alpha-1',
      'Bearer alpha-1',
    ]);
    expect(refusing.authorizations()).toEqual([undefined, undefined, undefined]);
  });

  it('a 401 from the origin the token was attached for still drops it and retries once', async () => {
    let refused = 0;
    redirector.route('GET /moved', (_req, res) => void res.writeHead(307, { location: '/here' }).end());
    redirector.route('GET /here', (req, res) =>
      req.headers.authorization === 'Bearer alpha-1' && ++refused
        ? json(res, 401, {})
        : json(res, 200, { authorization: req.headers.authorization ?? null }),
    );
    const { http } = await boot({}, { redir: oauth2Client(alphaTokens, { attachTo: [redirector.url] }) });
    expect((await get(http, `${redirector.url}/moved`)).authorization).toBe('Bearer alpha-2');
    expect(refused).toBe(1);
    expect(alphaTokens.count).toBe(2);
  });

  it('a same-origin 307 to a token URL does not carry the bearer', async () => {
    let issued = 0;
    redirector.route('POST /oauth/token', (_req, res) =>
      json(res, 200, { access_token: `same-${++issued}`, expires_in: 3600 }),
    );
    redirector.route('GET /api', (_req, res) => void res.writeHead(307, { location: '/oauth/token?from=api' }).end());
    redirector.route('GET /oauth/token', (req, res) =>
      json(res, 200, { authorization: req.headers.authorization ?? null }),
    );
    const { http } = await boot(
      {},
      { same: oauth2Client(alphaTokens, { tokenUrl: `${redirector.url}/oauth/token`, attachTo: [redirector.url] }) },
    );

    expect((await get(http, `${redirector.url}/api`)).authorization).toBeNull();
    expect(redirector.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? '-'}`)).toEqual([
      'POST /oauth/token Basic aWQ6c2VjcmV0',
      'GET /api Bearer same-1',
      'GET /oauth/token -',
    ]);
  });
});

describe('fail closed', () => {
  it('rejects with TokenRequestError and sends nothing upstream when the token endpoint refuses', async () => {
    alphaTokens.route('POST /oauth/token', (_req, res) => json(res, 401, { error: 'invalid_client' }));
    const { http } = await boot();
    const error = await get(http, `${alphaApi.url}/items`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ client: 'alpha', code: 'invalid_client', status: 401 });
    const viaAxios = await http.axiosRef.post(`${alphaApi.url}/items`, { a: 1 }).catch((e: unknown) => e);
    expect(viaAxios).toBeInstanceOf(TokenRequestError);
    expect(alphaApi.requests).toHaveLength(0);
  });

  it('rejects with TokenRequestError when the token endpoint cannot be reached', async () => {
    const { http } = await boot(
      {},
      { down: oauth2Client(alphaTokens, { tokenUrl: 'http://127.0.0.1:1/oauth/token', attachTo: [foreign.url] }) },
    );
    const error = await get(http, `${foreign.url}/items`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as TokenRequestError).code).toBe('network_error');
    expect(foreign.requests).toHaveLength(0);
  });
});

describe('401 from a call that carried our token', () => {
  /** The upstream accepts only the tokens in `live`. */
  let live: Set<string>;
  let guarded: UpstreamServer;
  beforeEach(async () => {
    live = new Set();
    guarded = track(
      await startUpstream(
        (authorization) => authorization !== undefined && live.has(authorization.replace('Bearer ', '')),
      ),
    );
  });
  const bootGuarded = () => boot({}, { guarded: oauth2Client(alphaTokens, { attachTo: [guarded.url] }) });

  /** Prime the cache with alpha-1, then revoke it upstream while alpha-2 will be accepted. */
  async function primeAndRevoke(http: HttpService) {
    live.add('alpha-1');
    await get(http, `${guarded.url}/items`);
    live.delete('alpha-1');
    live.add('alpha-2');
    guarded.requests.length = 0;
  }

  it.each(['get', 'head', 'options', 'put', 'delete'] as const)(
    'drops the rejected token and retries a %s once with a fresh one',
    async (method) => {
      const { http } = await bootGuarded();
      await primeAndRevoke(http);
      const response = await lastValueFrom(
        http.request({ method, url: `${guarded.url}/items`, data: method === 'put' ? { v: 1 } : undefined }),
      );
      expect(response.status).toBe(200);
      expect(guarded.authorizations()).toEqual(['Bearer alpha-1', 'Bearer alpha-2']);
      if (method === 'put') expect(guarded.requests.map((r) => r.body)).toEqual(['{"v":1}', '{"v":1}']);
      expect(alphaTokens.count).toBe(2);
    },
  );

  it('does not retry a POST, but drops the token so the next call gets a fresh one', async () => {
    const { http } = await bootGuarded();
    await primeAndRevoke(http);
    const error = await lastValueFrom(http.post(`${guarded.url}/items`, { a: 1 })).catch((e: unknown) => e);
    expect(isAxiosError(error)).toBe(true); // not instanceof: Nest 11 loads axios's CommonJS build
    expect((error as AxiosError).response?.status).toBe(401);
    expect(guarded.requests).toHaveLength(1);
    expect((await get(http, `${guarded.url}/items`)).authorization).toBe('Bearer alpha-2');
  });

  it('retries a POST that opts in with { retryOn401: true }, body unchanged', async () => {
    const { http } = await bootGuarded();
    await primeAndRevoke(http);
    const response = await lastValueFrom(
      http.post<Echo>(`${guarded.url}/items`, { a: 1 }, { oauth: { retryOn401: true } }),
    );
    expect(response.data).toMatchObject({ method: 'POST', body: '{"a":1}', authorization: 'Bearer alpha-2' });
    expect(guarded.requests.map((r) => r.body)).toEqual(['{"a":1}', '{"a":1}']);
  });

  it('does not retry a GET that opts out with { retryOn401: false }', async () => {
    const { http } = await bootGuarded();
    await primeAndRevoke(http);
    const error = await get(http, `${guarded.url}/items`, { oauth: { retryOn401: false } }).catch((e: unknown) => e);
    expect((error as AxiosError).response?.status).toBe(401);
    expect(guarded.requests).toHaveLength(1);
  });

  it('a second 401 surfaces as the axios error: one retry, never a loop', async () => {
    const { app, http } = await bootGuarded(); // `live` stays empty: every token is refused
    const error = await get(http, `${guarded.url}/items`).catch((e: unknown) => e);
    expect(isAxiosError(error)).toBe(true); // not instanceof: Nest 11 loads axios's CommonJS build
    expect((error as AxiosError).response?.status).toBe(401);
    expect(guarded.authorizations()).toEqual(['Bearer alpha-1', 'Bearer alpha-2']);
    expect(alphaTokens.count).toBe(2);
    // The retry is logged with a fingerprint, never the token.
    const warnings = app.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('retrying once');
    expect(warnings[1]).toContain('not retried');
    expect(app.logger.text()).not.toMatch(/alpha-\d/);
  });

  it('does not retry a call whose request body was a stream (it has been consumed)', async () => {
    const { http } = await bootGuarded();
    await primeAndRevoke(http);
    const error = await lastValueFrom(http.put(`${guarded.url}/items`, Readable.from([Buffer.from('chunk')]))).catch(
      (e: unknown) => e,
    );
    expect((error as AxiosError).response?.status).toBe(401);
    expect(guarded.requests.map((r) => r.body)).toEqual(['chunk']);
  });

  it('concurrent 401s for the same stale token cause one token request, and every call recovers', async () => {
    const { http } = await bootGuarded();
    await primeAndRevoke(http);
    const results = await Promise.all(Array.from({ length: 25 }, () => get(http, `${guarded.url}/items`)));
    expect(results.every((r) => r.authorization === 'Bearer alpha-2')).toBe(true);
    expect(alphaTokens.count).toBe(2); // alpha-1 for the priming call, alpha-2 for all 25 retries
    expect(guarded.requests).toHaveLength(50);
  });

  it('a 401 for a token already replaced does not drop the new one (compare-and-invalidate)', async () => {
    const { app, http } = await bootGuarded();
    await primeAndRevoke(http);
    const tokens = app.moduleRef.get(TokenService);
    const fresh = await tokens.getToken('guarded', { forceRefresh: true }); // alpha-2 now cached
    expect(fresh.accessToken).toBe('alpha-2');
    // A call that went out with alpha-1 earlier is answered 401 now: it must not drop alpha-2.
    await tokens.invalidate('guarded', { accessToken: 'alpha-1' });
    expect((await get(http, `${guarded.url}/items`)).authorization).toBe('Bearer alpha-2');
    expect(alphaTokens.count).toBe(2);
  });

  it('leaves a 401 alone when the call carried the caller’s own header', async () => {
    const { http } = await bootGuarded();
    const error = await get(http, `${guarded.url}/items`, { headers: { Authorization: 'Bearer mine' } }).catch(
      (e: unknown) => e,
    );
    expect((error as AxiosError).response?.status).toBe(401);
    expect(guarded.requests).toHaveLength(1);
    expect(alphaTokens.count).toBe(0);
  });
});

describe('bodies and streams are untouched', () => {
  it('passes request bodies through and works with streaming responses', async () => {
    const { http } = await boot();
    const posted = await lastValueFrom(http.post<Echo>(`${alphaApi.url}/items`, { nested: { list: [1, 'two'] } }));
    expect(posted.data).toMatchObject({ body: '{"nested":{"list":[1,"two"]}}', authorization: 'Bearer alpha-1' });
    const raw = await lastValueFrom(
      http.put<Echo>(`${alphaApi.url}/items`, Buffer.from([0, 1, 2, 255]).toString('latin1')),
    );
    expect(raw.data.body).toBe(Buffer.from([0, 1, 2, 255]).toString('latin1'));

    const streamed: AxiosResponse<Readable> = await lastValueFrom(
      http.get<Readable>(`${alphaApi.url}/stream`, { responseType: 'stream' }),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of streamed.data) chunks.push(chunk as Buffer);
    expect(JSON.parse(Buffer.concat(chunks).toString('utf8'))).toMatchObject({
      path: '/stream',
      authorization: 'Bearer alpha-1',
    });
    expect(alphaTokens.count).toBe(1);
  });
});
