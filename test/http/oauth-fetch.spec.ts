import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import createClient from 'openapi-fetch';
import { OAuthConfigError, OAuthFetch, TokenRequestError, type OAuthClientOptions } from '../../lib/index.js';
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

/** `OAuthFetch` against real loopback servers: the same rules as HttpService calls. */
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
  const app = track(await bootHttp({ api: oauth2Client(tokens, { attachTo: [api.url] }), ...extra }));
  return { app, fetch: app.moduleRef.get(OAuthFetch).fetch };
}

const echo = async (response: Response) => (await response.json()) as Echo;

describe('which calls get a token', () => {
  it('attaches by attachTo, unbound, with every input form', async () => {
    const { fetch } = await boot();
    expect((await echo(await fetch(`${api.url}/items`))).authorization).toBe('Bearer tok-1');
    expect((await echo(await fetch(new URL(`${api.url}/items`)))).authorization).toBe('Bearer tok-1');
    const request = new Request(`${api.url}/items`, { headers: { 'x-trace': 'abc' } });
    expect((await echo(await fetch(request))).authorization).toBe('Bearer tok-1');
    expect(api.requests.at(-1)!.headers['x-trace']).toBe('abc');
    expect(tokens.count).toBe(1);
  });

  it('nothing to other origins, to a token endpoint, with oauth: false, or over a caller header', async () => {
    const { fetch } = await boot();
    expect((await echo(await fetch(`${foreign.url}/items`))).authorization).toBeNull();
    expect((await echo(await fetch(`${api.url}/items`, { oauth: false }))).authorization).toBeNull();
    const own = await fetch(`${api.url}/items`, { headers: { Authorization: 'Bearer mine' } });
    expect((await echo(own)).authorization).toBe('Bearer mine');
    expect(tokens.count).toBe(0); // no token was fetched for any of these
    await fetch(tokens.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' });
    expect(tokens.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('an explicit client and scope; an unknown client is an OAuthConfigError and nothing is sent', async () => {
    const { fetch } = await boot();
    const response = await fetch(`${foreign.url}/items`, { oauth: { client: 'api', scope: 'read' } });
    expect((await echo(response)).authorization).toBe('Bearer tok-1');
    expect(new URLSearchParams(tokens.requests[0]!.body).get('scope')).toBe('read');
    await expect(fetch(`${api.url}/items`, { oauth: 'nope' })).rejects.toBeInstanceOf(OAuthConfigError);
    expect(api.requests).toHaveLength(0);
  });

  it('fails closed: no token, no call', async () => {
    tokens.route('POST /oauth/token', (_req, res) => json(res, 401, { error: 'invalid_client' }));
    const { fetch } = await boot();
    await expect(fetch(`${api.url}/items`)).rejects.toBeInstanceOf(TokenRequestError);
    expect(api.requests).toHaveLength(0);
  });
});

describe('a 401 to our token', () => {
  let refusing: UpstreamServer;
  beforeEach(async () => {
    // Refuses the first token it sees, accepts the next.
    refusing = track(await startUpstream((authorization) => authorization !== 'Bearer tok-1'));
  });

  it('drops that token and retries an idempotent call once, with the same bytes', async () => {
    const { fetch } = await boot({ r: oauth2Client(tokens, { attachTo: [refusing.url] }) });
    const response = await fetch(`${refusing.url}/items`, { method: 'PUT', body: 'same bytes' });
    expect(await echo(response)).toMatchObject({ method: 'PUT', body: 'same bytes', authorization: 'Bearer tok-2' });
    expect(refusing.requests.map((r) => [r.headers.authorization, r.body])).toEqual([
      ['Bearer tok-1', 'same bytes'],
      ['Bearer tok-2', 'same bytes'],
    ]);
  });

  it('a POST is retried only when it opts in; a stream body never', async () => {
    const { fetch } = await boot({ r: oauth2Client(tokens, { attachTo: [refusing.url] }) });
    expect((await fetch(`${refusing.url}/items`, { method: 'POST', body: 'x' })).status).toBe(401);
    expect(
      (await fetch(`${refusing.url}/items`, { method: 'POST', body: 'x', oauth: { retryOn401: true } })).status,
    ).toBe(200);
    const always = track(await startUpstream(() => false));
    const app = await boot({ always: oauth2Client(tokens, { attachTo: [always.url] }) });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const init = { method: 'PUT', body: stream, duplex: 'half', oauth: { retryOn401: true } } as RequestInit;
    expect((await app.fetch(`${always.url}/items`, init)).status).toBe(401);
    expect(always.requests.map((r) => r.body)).toEqual(['streamed']); // sent once, never again
  });
});

describe('redirects', () => {
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
    const same = oauth2Client(tokens, { tokenUrl: `${redirector.url}/oauth/token`, attachTo: [redirector.url] });
    redirector.route('POST /oauth/token', (_req, res) => json(res, 200, { access_token: 'same-1', expires_in: 3600 }));
    const { fetch } = await boot({ same });

    const away = await fetch(`${redirector.url}/away`);
    expect(away.url).toBe(`${foreign.url}/items`);
    expect((await echo(away)).authorization).toBeNull();
    expect((await echo(await fetch(`${redirector.url}/home`))).authorization).toBe('Bearer same-1');
    expect((await echo(await fetch(`${redirector.url}/to-token`))).authorization).toBeNull();
  });

  it('a 401 from another origin reached by a redirect is not a refusal of our token', async () => {
    const refusing = track(await startUpstream(() => false));
    redirector.route('GET /away', redirectTo(307, `${refusing.url}/items`));
    const { fetch } = await boot({ redir: oauth2Client(tokens, { attachTo: [redirector.url] }) });
    for (let call = 0; call < 3; call++) expect((await fetch(`${redirector.url}/away`)).status).toBe(401);
    expect(tokens.count).toBe(1);
  });

  it('303 continues as a GET without the body; redirect: "manual" is the caller\'s', async () => {
    redirector.route('POST /form', redirectTo(303, '/done'));
    redirector.route('GET /done', (req, res) => json(res, 200, { method: req.method, body: req.body }));
    const { fetch } = await boot({ redir: oauth2Client(tokens, { attachTo: [redirector.url] }) });
    const done = await fetch(`${redirector.url}/form`, { method: 'POST', body: 'a=1' });
    expect(await done.json()).toEqual({ method: 'GET', body: '' });
    const manual = await fetch(`${redirector.url}/form`, { method: 'POST', body: 'a=1', redirect: 'manual' });
    expect(manual.status).toBe(303);
  });
});

describe('handed to a library that takes a fetch', () => {
  it('openapi-fetch: a PUT (a Request object with a body) replayed after a 401', async () => {
    const refusing = track(await startUpstream((authorization) => authorization !== 'Bearer tok-1'));
    const { fetch } = await boot({ r: oauth2Client(tokens, { attachTo: [refusing.url] }) });
    const client = createClient<never>({ baseUrl: refusing.url, fetch });
    const put = await (
      client as unknown as { PUT: (path: string, init: object) => Promise<{ data?: Echo; response: Response }> }
    ).PUT('/items', { body: { name: 'widget' } });
    expect(put.response.status).toBe(200);
    expect(put.data).toMatchObject({ method: 'PUT', body: '{"name":"widget"}', authorization: 'Bearer tok-2' });
    expect(refusing.requests.map((r) => r.body)).toEqual(['{"name":"widget"}', '{"name":"widget"}']);
  });
});
