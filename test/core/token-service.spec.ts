import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { firstValueFrom, take, toArray } from 'rxjs';
import { OAuthConfigError, TokenRequestError } from '../../lib/index.js';
import { bootOAuth, flushMicrotasks, type Booted } from '../support/boot.js';
import { deferred } from '../support/deferred.js';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';

let server: RecordingServer;
let issued = 0;
let respond: (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;
const tokenFor = (req: RecordedRequest, res: ServerResponse, expiresIn = 3600) =>
  json(res, 200, {
    access_token: `token-${++issued}`,
    token_type: 'Bearer',
    expires_in: expiresIn,
    scope: new URLSearchParams(req.body).get('scope') ?? undefined,
  });

/** Token requests are answered only after the returned function is called. */
function holdTokenEndpoint(): () => void {
  const held = deferred();
  respond = async (req, res) => {
    await held.promise;
    tokenFor(req, res);
  };
  return () => held.resolve();
}

/** Resolves once the token endpoint has received `count` requests (it may be holding them). */
function requestsReceived(count: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (server.requests.length >= count ? resolve() : setImmediate(poll));
    poll();
  });
}

let app: Booted;
beforeAll(async () => {
  server = await startRecordingServer({ 'POST /oauth/token': (req, res) => respond(req, res) });
});
afterAll(() => server.close());
beforeEach(async () => {
  respond = tokenFor;
  server.requests.length = 0;
  app = await bootOAuth({
    api: { strategy: 'oauth2', baseUrl: server.url, clientId: 'id', clientSecret: 'pw-1', scope: 'read' },
  });
});
afterEach(() => app.close());

describe('single flight and cache keys', () => {
  it('1000 concurrent getToken calls on a cold key make exactly one token request', async () => {
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => app.tokens.getToken('api')));
    expect(server.requests).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('serves the cached token without a request', async () => {
    const first = await app.tokens.getToken('api');
    app.clock.advance(60_000);
    expect(await app.tokens.getToken('api')).toBe(first);
    expect(server.requests).toHaveLength(1);
  });

  it('different scopes never share a token; equal scope sets do, whatever their order', async () => {
    const [a, b, c, d] = await Promise.all([
      app.tokens.getToken('api', { scope: 'x y' }),
      app.tokens.getToken('api', { scope: ['y', 'x'] }),
      app.tokens.getToken('api', { scope: 'x' }),
      app.tokens.getToken('api'),
    ]);
    expect(a.accessToken).toBe(b.accessToken);
    expect(new Set([a.accessToken, c.accessToken, d.accessToken]).size).toBe(3);
    expect(server.requests.map((r) => new URLSearchParams(r.body).get('scope')).sort()).toEqual(['read', 'x', 'x y']);
  });

  it('failures are never cached: the next call asks again', async () => {
    respond = (_req, res) => json(res, 401, { error: 'invalid_client' });
    await expect(app.tokens.getToken('api')).rejects.toMatchObject({ code: 'invalid_client', attempts: 1 });
    respond = tokenFor;
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(server.requests).toHaveLength(2);
  });

  it('concurrent callers share one failure, then a new attempt is made', async () => {
    respond = (_req, res) => json(res, 400, { error: 'invalid_scope' });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => app.tokens.getToken('api')));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('forceRefresh fetches a new token', async () => {
    const first = await app.tokens.getToken('api');
    const second = await app.tokens.getToken('api', { forceRefresh: true });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(await app.tokens.getToken('api')).toBe(second);
  });

  it('an unknown client rejects with OAuthConfigError naming it', async () => {
    await expect(app.tokens.getToken('nope')).rejects.toThrow(OAuthConfigError);
    await expect(app.tokens.getToken('nope')).rejects.toThrow(/"nope"/);
    await expect(app.tokens.invalidate('nope')).rejects.toThrow(/"nope"/);
    await expect(firstValueFrom(app.tokens.token$('nope'))).rejects.toThrow(/"nope"/);
  });
});

describe('expiry, skew and refresh-ahead (fake clock)', () => {
  it('serves a token until expiresAt - 60 s, then callers wait for a new one', async () => {
    const first = await app.tokens.getToken('api');
    const release = holdTokenEndpoint();
    app.clock.set(first.expiresAt - 60_001);
    expect(await app.tokens.getToken('api')).toBe(first); // and the held background refresh starts
    app.clock.set(first.expiresAt - 60_000);
    let settled = false;
    const waiting = app.tokens.getToken('api').finally(() => (settled = true));
    await flushMicrotasks();
    expect(settled).toBe(false);
    release();
    expect((await waiting).accessToken).not.toBe(first.accessToken);
    expect(server.requests).toHaveLength(2);
  });

  it('skew is at most half the lifetime (short tokens)', async () => {
    respond = (req, res) => tokenFor(req, res, 30);
    const first = await app.tokens.getToken('api');
    app.clock.advance(14_999); // 60 s skew would make a 30 s token unusable; half of it is 15 s
    expect(await app.tokens.getToken('api')).toBe(first);
    app.clock.advance(1);
    await flushMicrotasks();
    expect((await app.tokens.getToken('api')).accessToken).not.toBe(first.accessToken);
  });

  it('at 80% of the lifetime a caller gets the old token at once while exactly one background request runs', async () => {
    const first = await app.tokens.getToken('api');
    const release = holdTokenEndpoint();
    app.clock.advance(0.8 * 3_600_000);
    const during = await Promise.all(Array.from({ length: 100 }, () => app.tokens.getToken('api')));
    expect(during.every((t) => t === first)).toBe(true);
    await requestsReceived(2);
    expect(server.requests).toHaveLength(2);
    release();
    const refreshed = await firstValueFrom(app.tokens.token$('api').pipe(take(2), toArray()));
    expect(refreshed[1]!.accessToken).not.toBe(first.accessToken);
    expect((await app.tokens.getToken('api')).accessToken).toBe(refreshed[1]!.accessToken);
    expect(server.requests).toHaveLength(2);
  });

  it('a failed background refresh keeps serving the current token and logs a warning', async () => {
    const first = await app.tokens.getToken('api');
    respond = (_req, res) => json(res, 400, { error: 'invalid_request' });
    app.clock.advance(0.8 * 3_600_000);
    expect(await app.tokens.getToken('api')).toBe(first);
    await flushMicrotasks();
    expect(app.logger.lines).toContainEqual({ level: 'warn', message: expect.stringContaining('Background refresh') });
    expect(await app.tokens.getToken('api')).toBe(first);
  });
});

describe('token$, invalidate and setCredentials', () => {
  it('token$ emits the current token, then each new one for that key', async () => {
    const seen: string[] = [];
    const subscription = app.tokens.token$('api').subscribe((t) => seen.push(t.accessToken));
    await flushMicrotasks();
    const initial = await app.tokens.getToken('api');
    const refreshed = await app.tokens.getToken('api', { forceRefresh: true });
    await app.tokens.getToken('api', { scope: 'other', forceRefresh: true });
    subscription.unsubscribe();
    await app.tokens.getToken('api', { forceRefresh: true });
    expect(seen).toEqual([initial.accessToken, refreshed.accessToken]);
  });

  it('invalidate(client) drops every token of the client', async () => {
    await Promise.all([app.tokens.getToken('api'), app.tokens.getToken('api', { scope: 'x' })]);
    await app.tokens.invalidate('api');
    await Promise.all([app.tokens.getToken('api'), app.tokens.getToken('api', { scope: 'x' })]);
    expect(server.requests).toHaveLength(4);
  });

  it('invalidate with a scope drops only that token', async () => {
    await Promise.all([app.tokens.getToken('api'), app.tokens.getToken('api', { scope: 'x' })]);
    await app.tokens.invalidate('api', { scope: 'x' });
    await Promise.all([app.tokens.getToken('api'), app.tokens.getToken('api', { scope: 'x' })]);
    expect(server.requests).toHaveLength(3);
  });

  it('invalidate with accessToken only drops that very token (compare-and-invalidate)', async () => {
    const current = await app.tokens.getToken('api');
    await app.tokens.invalidate('api', { accessToken: 'some-older-token' });
    expect(await app.tokens.getToken('api')).toBe(current);
    await app.tokens.invalidate('api', { accessToken: current.accessToken });
    expect((await app.tokens.getToken('api')).accessToken).not.toBe(current.accessToken);
  });

  it('setCredentials: old tokens are no longer served and the new secret is used', async () => {
    const old = await app.tokens.getToken('api');
    await app.tokens.setCredentials('api', { clientSecret: 'rotated' });
    const fresh = await app.tokens.getToken('api');
    expect(fresh.accessToken).not.toBe(old.accessToken);
    const basic = Buffer.from(String(server.requests.at(-1)!.headers.authorization).slice(6), 'base64').toString();
    expect(basic).toBe('id:rotated');
  });

  it('setCredentials: a fetch in flight with the old secret completes, but its token is not served after', async () => {
    const release = holdTokenEndpoint();
    const inFlight = app.tokens.getToken('api');
    await requestsReceived(1);
    await app.tokens.setCredentials('api', { clientId: 'id2', clientSecret: 'rotated' });
    release();
    const old = await inFlight;
    respond = tokenFor;
    expect((await app.tokens.getToken('api')).accessToken).not.toBe(old.accessToken);
  });

  it('setCredentials with an empty secret is an OAuthConfigError', async () => {
    await expect(app.tokens.setCredentials('api', { clientSecret: '' })).rejects.toMatchObject({
      name: 'OAuthConfigError',
      client: 'api',
      field: 'clientSecret',
    });
  });
});

describe('errors', () => {
  it('getToken rejects with TokenRequestError carrying the client name', async () => {
    respond = (_req, res) => json(res, 401, { error: 'invalid_client', error_description: 'bad secret' });
    const error = (await app.tokens.getToken('api').catch((e: unknown) => e)) as TokenRequestError;
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({
      client: 'api',
      status: 401,
      code: 'invalid_client',
      description: 'bad secret',
      attempts: 1,
    });
  });
});
