import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { Agent, fetch as undiciFetch, interceptors, request, type Dispatcher } from 'undici';
import { OAuthConfigError, TokenRequestError, TokenService, type OAuthClientOptions } from '../../lib/index.js';
import { OAuthDispatcher, oauthInterceptor } from '../../lib/undici/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import {
  bootHttp,
  oauth2Client,
  startTokenServer,
  startUpstream,
  type TokenServer,
  type UpstreamServer,
} from './http-support.js';

/** The undici interceptor and `OAuthDispatcher` against real loopback servers: the same rules as every transport. */
type Echo = { method: string; path: string; body: string; authorization: string | null };

const { track } = closeAfterEach();

let tokens: TokenServer;
let api: UpstreamServer;
let foreign: UpstreamServer;

beforeEach(async () => {
  tokens = track(await startTokenServer('tok'));
  api = track(await startUpstream());
  foreign = track(await startUpstream());
});

async function boot(extra: Record<string, OAuthClientOptions> = {}) {
  const app = track(
    await bootHttp({ api: oauth2Client(tokens, { attachTo: [api.url] }), ...extra }, { providers: [OAuthDispatcher] }),
  );
  return { app, dispatcher: app.moduleRef.get(OAuthDispatcher) };
}

async function call(dispatcher: Dispatcher, url: string, options: Record<string, unknown> = {}) {
  const response = await request(url, { dispatcher, ...options } as Parameters<typeof request>[1]);
  const text = await response.body.text();
  return { status: response.statusCode, echo: (text.startsWith('{') ? JSON.parse(text) : {}) as Echo };
}

describe('which calls get a token', () => {
  it('attaches by attachTo, on request() and on undici fetch', async () => {
    const { dispatcher } = await boot();
    expect((await call(dispatcher, `${api.url}/items`)).echo.authorization).toBe('Bearer tok-1');
    const viaFetch = await undiciFetch(`${api.url}/items`, { dispatcher });
    expect(((await viaFetch.json()) as Echo).authorization).toBe('Bearer tok-1');
    expect(tokens.count).toBe(1);
  });

  it('nothing elsewhere, with oauth: false, over a caller header, or to a token endpoint', async () => {
    const { dispatcher } = await boot();
    expect((await call(dispatcher, `${foreign.url}/items`)).echo.authorization).toBeNull();
    expect((await call(dispatcher, `${api.url}/items`, { oauth: false })).echo.authorization).toBeNull();
    const own = await call(dispatcher, `${api.url}/items`, { headers: { authorization: 'Bearer mine' } });
    expect(own.echo.authorization).toBe('Bearer mine');
    expect(tokens.count).toBe(0);
    await call(dispatcher, tokens.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' });
    expect(tokens.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('an explicit client; an unknown one is an OAuthConfigError and nothing is sent', async () => {
    const { dispatcher } = await boot();
    expect((await call(dispatcher, `${foreign.url}/items`, { oauth: 'api' })).echo.authorization).toBe('Bearer tok-1');
    await expect(call(dispatcher, `${api.url}/items`, { oauth: 'nope' })).rejects.toBeInstanceOf(OAuthConfigError);
    expect(api.requests).toHaveLength(0);
  });

  it('fails closed: no token, no call', async () => {
    tokens.route('POST /oauth/token', (_req, res) => json(res, 401, { error: 'invalid_client' }));
    const { dispatcher } = await boot();
    await expect(call(dispatcher, `${api.url}/items`)).rejects.toBeInstanceOf(TokenRequestError);
    expect(api.requests).toHaveLength(0);
  });
});

describe('a 401 to our token', () => {
  it('drops it and retries an idempotent call once with the same bytes; a POST only when it opts in', async () => {
    const refusing = track(await startUpstream((authorization) => authorization !== 'Bearer tok-1'));
    const { dispatcher } = await boot({ r: oauth2Client(tokens, { attachTo: [refusing.url] }) });
    const put = await call(dispatcher, `${refusing.url}/items`, { method: 'PUT', body: 'same bytes' });
    expect(put).toMatchObject({ status: 200, echo: { body: 'same bytes', authorization: 'Bearer tok-2' } });
    expect(refusing.requests.map((r) => r.body)).toEqual(['same bytes', 'same bytes']);

    const always = track(await startUpstream(() => false));
    const both = await boot({ a: oauth2Client(tokens, { attachTo: [always.url] }) });
    expect((await call(both.dispatcher, `${always.url}/items`, { method: 'POST', body: 'x' })).status).toBe(401);
    expect(always.requests).toHaveLength(1);
    const optedIn = await call(both.dispatcher, `${always.url}/items`, {
      method: 'POST',
      body: 'x',
      oauth: { retryOn401: true },
    });
    expect(optedIn.status).toBe(401);
    expect(always.requests).toHaveLength(3); // once more, then the second 401 is the caller's
  });
});

describe('redirects, with undici.interceptors.redirect composed outside', () => {
  let redirector: RecordingServer;
  beforeEach(async () => {
    redirector = track(await startRecordingServer());
  });
  const redirectTo = (status: number, location: string) => (_req: unknown, res: ServerResponse) =>
    void res.writeHead(status, { location }).end();

  it('the token stays on its origin and never reaches a token endpoint', async () => {
    redirector.route('GET /away', redirectTo(302, `${foreign.url}/items`));
    redirector.route('GET /home', redirectTo(307, '/landing'));
    redirector.route('GET /landing', (req, res) =>
      json(res, 200, { authorization: req.headers.authorization ?? null }),
    );
    redirector.route('GET /to-token', redirectTo(307, '/oauth/token'));
    redirector.route('GET /oauth/token', (req, res) =>
      json(res, 200, { authorization: req.headers.authorization ?? null }),
    );
    redirector.route('POST /oauth/token', (_req, res) => json(res, 200, { access_token: 'same-1', expires_in: 3600 }));
    const same = oauth2Client(tokens, { tokenUrl: `${redirector.url}/oauth/token`, attachTo: [redirector.url] });
    const { app } = await boot({ same });
    const agent = new Agent();
    const dispatcher = agent.compose(
      oauthInterceptor(app.moduleRef.get(TokenService)),
      interceptors.redirect({ maxRedirections: 3 }),
    );
    try {
      expect((await call(dispatcher, `${redirector.url}/away`)).echo.authorization).toBeNull();
      expect((await call(dispatcher, `${redirector.url}/home`)).echo.authorization).toBe('Bearer same-1');
      expect((await call(dispatcher, `${redirector.url}/to-token`)).echo.authorization).toBeNull();
    } finally {
      await agent.close();
    }
  });
});
