import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import createClient from 'openapi-fetch';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { OAuthConfigError, OAuthFetch, type OAuthClientOptions } from '../../lib/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import {
  bootAttached,
  startTransportServers,
  oauth2Client,
  startUpstream,
  type Echo,
  type TokenServer,
  type UpstreamServer,
} from './http-support.js';

/** `OAuthFetch` against real loopback servers: the same rules as HttpService calls. */
const { track } = closeAfterEach();

let tokens: TokenServer;
let api: UpstreamServer;
let foreign: UpstreamServer;

beforeEach(async () => ({ tokens, api, foreign } = await startTransportServers(track)));

async function boot(extra: Record<string, OAuthClientOptions> = {}) {
  const app = await bootAttached(track, { tokens, api }, extra);
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
});

describe('with the token already cached (sent without an async frame)', () => {
  it('a bare fetch(url) carries the current token, also after a 401 replaced it', async () => {
    let refuseFirstToken = false;
    const refusing = track(
      await startUpstream((authorization) => !(refuseFirstToken && authorization === 'Bearer tok-1')),
    );
    const { fetch } = await boot({ r: oauth2Client(tokens, { attachTo: [refusing.url] }) });
    const seen = async () => (await echo(await fetch(`${refusing.url}/items`))).authorization;
    expect([await seen(), await seen()]).toEqual(['Bearer tok-1', 'Bearer tok-1']); // fetched, then cached
    refuseFirstToken = true;
    expect([await seen(), await seen()]).toEqual(['Bearer tok-2', 'Bearer tok-2']); // refused and replaced
    expect(refusing.authorizations()).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-2',
      'Bearer tok-2',
    ]);
  });

  it('a bad input or option is a rejected promise, as with global fetch, never a throw', async () => {
    const { fetch } = await boot();
    await fetch(`${api.url}/items`);
    let answer: Promise<Response> | undefined;
    expect(() => (answer = fetch(`${api.url}/items`, { oauth: 42 as never }))).not.toThrow();
    await expect(answer).rejects.toBeInstanceOf(OAuthConfigError);
    expect(() => (answer = fetch('not a url'))).not.toThrow();
    await expect(answer).rejects.toMatchObject({ name: 'TypeError' });
    expect(api.requests).toHaveLength(1);
  });
});

describe("on Node's own fetch the cached token rides the dispatcher, never fetch's own headers", () => {
  /** A dispatcher that records the headers each call is dispatched with, then sends it on. */
  function recordingDispatcher(next: Dispatcher) {
    const headers: unknown[] = [];
    const dispatcher = {
      dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
        headers.push(options.headers);
        return next.dispatch(options, handler);
      },
    };
    return { headers, init: { dispatcher } as unknown as RequestInit };
  }

  it("the caller's init.dispatcher gets the call with the token added; fetch checked only the caller's headers", async () => {
    const { fetch } = await boot();
    const recording = recordingDispatcher(track(new Agent()));
    const call = () => fetch(`${api.url}/items`, { ...recording.init, headers: { 'x-trace': 'abc' } });
    expect((await echo(await call())).authorization).toBe('Bearer tok-1'); // no token cached yet: as a header
    expect((await echo(await call())).authorization).toBe('Bearer tok-1');
    expect(recording.headers[1]).toEqual(expect.arrayContaining(['x-trace', 'abc', 'authorization', 'Bearer tok-1']));
    expect(api.requests.at(-1)!.headers['x-trace']).toBe('abc');
  });

  it('the global dispatcher is read at each call (setGlobalDispatcher may change it)', async () => {
    const { fetch } = await boot();
    const previous = getGlobalDispatcher();
    track({ close: async () => setGlobalDispatcher(previous) });
    await fetch(`${api.url}/items`);
    const recording = recordingDispatcher(track(new Agent()));
    setGlobalDispatcher(recording.init.dispatcher as unknown as Dispatcher);
    expect((await echo(await fetch(`${api.url}/items`))).authorization).toBe('Bearer tok-1');
    expect(recording.headers).toEqual([expect.arrayContaining(['authorization', 'Bearer tok-1'])]);
  });

  it("a global fetch that is not Node's own (MSW, nock, a polyfill) gets the token as a header, where it sees it", async () => {
    const { fetch } = await boot();
    const nodeFetch = globalThis.fetch;
    const seen: (string | null)[] = [];
    globalThis.fetch = (input, init) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return nodeFetch(input, init);
    };
    track({ close: async () => void (globalThis.fetch = nodeFetch) });
    await fetch(`${api.url}/items`);
    await fetch(`${api.url}/items`);
    expect(seen).toEqual(['Bearer tok-1', 'Bearer tok-1']);
  });
});

describe('a 401 to our token', () => {
  it('a stream body is never sent again, even when the call opts in', async () => {
    const always = track(await startUpstream(() => false));
    const { fetch } = await boot({ always: oauth2Client(tokens, { attachTo: [always.url] }) });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const init = { method: 'PUT', body: stream, duplex: 'half', oauth: { retryOn401: true } } as RequestInit;
    expect((await fetch(`${always.url}/items`, init)).status).toBe(401);
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

  it("Response.url is the final hop's", async () => {
    redirector.route('GET /away', redirectTo(302, `${foreign.url}/items`));
    const { fetch } = await boot({ redir: oauth2Client(tokens, { attachTo: [redirector.url] }) });
    expect((await fetch(`${redirector.url}/away`)).url).toBe(`${foreign.url}/items`);
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
