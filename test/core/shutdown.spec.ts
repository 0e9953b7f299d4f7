import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { lastValueFrom } from 'rxjs';
import { TokenRequestError, type OAuthClientOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { flushMicrotasks } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { deferred } from '../support/deferred.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import { bootHttp, startUpstream, type UpstreamServer } from '../http/http-support.js';

/**
 * `app.close()` cancels the module's work. Token requests in flight are aborted,
 * no retry or refresh starts after close, and calls still waiting on a token reject without being sent.
 */
const { track } = closeAfterEach();

let tokens: RecordingServer;
let api: UpstreamServer;
/** Resolves when the token endpoint's socket for the held request closes (the client aborted it). */
let aborted = deferred();

async function startServers(tokenHandler: (res: ServerResponse) => void) {
  tokens = track(await startRecordingServer({ 'POST /oauth/token': (_req, res) => tokenHandler(res) }));
  api = track(await startUpstream());
}

const client = (extra: Partial<OAuthClientOptions> = {}) =>
  ({
    strategy: 'oauth2',
    tokenUrl: `${tokens.url}/oauth/token`,
    clientId: 'id',
    clientSecret: 'secret',
    attachTo: [api.url],
    ...extra,
  }) as OAuthClientOptions;

/** Settles once the token endpoint has received `count` requests. */
function tokenRequests(count: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (tokens.requests.length >= count ? resolve() : setImmediate(poll));
    poll();
  });
}

afterEach(() => {
  aborted = deferred();
});

describe('app.close()', () => {
  it('aborts the token request in flight; waiting getToken and HttpService calls reject and nothing is sent', async () => {
    await startServers((res) => res.on('close', () => aborted.resolve())); // never answers
    const app = track(await bootHttp({ api: client() }, { oauth: { timeoutMs: 60_000 } }));
    const http = app.moduleRef.get(HttpService);

    const waitingToken = app.tokens.getToken('api').catch((e: unknown) => e);
    const waitingCall = lastValueFrom(http.get(`${api.url}/items`)).catch((e: unknown) => e);
    await tokenRequests(1);
    await app.close();

    for (const error of [await waitingToken, await waitingCall]) {
      expect(error).toBeInstanceOf(TokenRequestError);
      expect((error as TokenRequestError).code).toBe('network_error');
      expect((error as TokenRequestError).description).toMatch(/closed/);
    }
    await aborted.promise; // the library closed its socket: the request was aborted, not abandoned
    expect(tokens.requests).toHaveLength(1);
    expect(api.requests).toHaveLength(0);
  });

  it('starts no retry after close, even when a retry wait ends later', async () => {
    await startServers((res) => json(res, 503, {}));
    const wait = deferred();
    const sleeps: number[] = [];
    const clock = Object.assign(new FakeClock(), { sleep: (ms: number) => (sleeps.push(ms), wait.promise) });
    const app = track(await bootHttp({ api: client() }, { oauth: { clock, retry: { maxAttempts: 3 } } }));

    const waiting = app.tokens.getToken('api').catch((e: unknown) => e);
    await tokenRequests(1);
    while (sleeps.length === 0) await flushMicrotasks(1);
    await app.close();
    expect(await waiting).toBeInstanceOf(TokenRequestError);

    wait.resolve(); // the user's clock ends its wait after close
    await flushMicrotasks();
    expect(tokens.requests).toHaveLength(1);
  });

  it('starts no refresh after close, and getToken then rejects without a request', async () => {
    let issued = 0;
    await startServers((res) => json(res, 200, { access_token: `AT-${++issued}`, expires_in: 100 }));
    const app = track(await bootHttp({ api: client() }));
    const first = await app.tokens.getToken('api');
    await app.close();

    app.clock.set(first.expiresAt - 41_000); // past the refresh-ahead point
    const error = await app.tokens.getToken('api').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    const streamed = await new Promise((resolve) =>
      app.tokens.token$('api').subscribe({ next: resolve, error: resolve }),
    );
    expect(streamed).toBeInstanceOf(TokenRequestError);
    await flushMicrotasks();
    expect(tokens.requests).toHaveLength(1);
  });
});
