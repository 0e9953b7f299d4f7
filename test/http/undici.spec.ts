import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { fetch as undiciFetch, request, type Dispatcher } from 'undici';
import type { OAuthClientOptions } from '../../lib/index.js';
import { OAuthDispatcher } from '../../lib/undici/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import {
  bootAttached,
  startTransportServers,
  type Echo,
  type TokenServer,
  type UpstreamServer,
} from './http-support.js';

/** The undici interceptor and `OAuthDispatcher` against real loopback servers: the same rules as every transport. */
const { track } = closeAfterEach();

let tokens: TokenServer;
let api: UpstreamServer;
let foreign: UpstreamServer;

beforeEach(async () => ({ tokens, api, foreign } = await startTransportServers(track)));

async function boot(extra: Record<string, OAuthClientOptions> = {}) {
  const app = await bootAttached(track, { tokens, api }, extra, { providers: [OAuthDispatcher] });
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

  it('the per-call oauth option in request() options', async () => {
    const { dispatcher } = await boot();
    expect((await call(dispatcher, `${foreign.url}/items`, { oauth: 'api' })).echo.authorization).toBe('Bearer tok-1');
    expect((await call(dispatcher, `${api.url}/items`, { oauth: false })).echo.authorization).toBeNull();
  });
});

describe('OAuthDispatcher', () => {
  it('closes its connections when the app closes', async () => {
    const { app, dispatcher } = await boot();
    await call(dispatcher, `${api.url}/items`);
    await dispatcher.close(); // the app's own close first: closing twice is harmless
    await app.close();
    await expect(call(dispatcher, `${api.url}/items`)).rejects.toThrow(/closed|destroyed/i);
  });
});
