import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import { fingerprint, TokenStore, type OAuthEvent, type StoredToken } from '../../lib/index.js';
import { bootHttp, oauth2Client, startTokenServer, startUpstream } from '../http/http-support.js';
import { bootOAuth } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json } from '../support/recording-server.js';

/** `TokenService.events$`: the contract's event types and fields, `at` from the module's clock, no token. */
const { track } = closeAfterEach();

function record(app: { tokens: { events$: import('rxjs').Observable<OAuthEvent> } }): OAuthEvent[] {
  const seen: OAuthEvent[] = [];
  app.tokens.events$.subscribe((event) => seen.push(event));
  return seen;
}

describe('events$', () => {
  it('token_fetched from the endpoint: duration, attempts, expiry, fingerprint; no token anywhere', async () => {
    const tokens = track(await startTokenServer('secret-token'));
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }, { retry: { maxAttempts: 1 } }));
    const seen = record(app);
    const token = await app.tokens.getToken('api');
    expect(seen).toEqual([
      {
        type: 'token_fetched',
        client: 'api',
        durationMs: 0,
        attempts: 1,
        expiresAt: app.clock.now() + 3_600_000,
        fingerprint: fingerprint(token.accessToken),
        source: 'endpoint',
        at: app.clock.now(),
      },
    ]);
    expect(JSON.stringify(seen)).not.toContain(token.accessToken);
  });

  it('token_failed with code, status and attempts; cooldown_started when the provider asks to wait', async () => {
    const tokens = track(await startTokenServer());
    tokens.route('POST /oauth/token', (_req, res) => json(res, 429, { error: 'slow_down' }, { 'retry-after': '30' }));
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }, { retry: { maxAttempts: 1 } }));
    const seen = record(app);
    await expect(app.tokens.getToken('api')).rejects.toMatchObject({ code: 'rate_limited' });
    expect(seen.map((e) => e.type)).toEqual(['token_failed', 'cooldown_started']);
    expect(seen[0]).toEqual({
      type: 'token_failed',
      client: 'api',
      code: 'rate_limited',
      status: 429,
      attempts: 1,
      durationMs: 0,
      at: app.clock.now(),
    });
    expect(seen[1]).toEqual({
      type: 'cooldown_started',
      client: 'api',
      code: 'rate_limited',
      retryAfterMs: 30_000,
      at: app.clock.now(),
    });
  });

  it('refresh_ahead once a served token enters its refresh window', async () => {
    const tokens = track(await startTokenServer());
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }));
    await app.tokens.getToken('api');
    const seen = record(app);
    app.clock.advance(0.8 * 3_600_000);
    await app.tokens.getToken('api');
    expect(seen[0]).toEqual({ type: 'refresh_ahead', client: 'api', at: app.clock.now() });
  });

  it('request_retried after a 401 to our token, with reason 401', async () => {
    const tokens = track(await startTokenServer());
    const api = track(await startUpstream((authorization) => authorization !== 'Bearer tok-1'));
    const app = track(await bootHttp({ api: oauth2Client(tokens, { attachTo: [api.url] }) }));
    const seen: OAuthEvent[] = [];
    app.tokens.events$.subscribe((e) => seen.push(e));
    await app.moduleRef.get(HttpService).axiosRef.get(`${api.url}/items`);
    expect(seen.filter((e) => e.type === 'request_retried')).toEqual([
      { type: 'request_retried', client: 'api', reason: '401', at: app.clock.now() },
    ]);
  });

  it('a token another replica stored is token_fetched from the store, with no attempt', async () => {
    const tokens = track(await startTokenServer());
    const store = new MemoryStore();
    const first = track(await bootOAuth({ api: oauth2Client(tokens) }, { store }));
    await first.tokens.getToken('api');
    const second = track(await bootOAuth({ api: oauth2Client(tokens) }, { store, clock: first.clock }));
    const seen = record(second);
    await second.tokens.getToken('api');
    expect(seen).toEqual([expect.objectContaining({ type: 'token_fetched', source: 'store', attempts: 0 })]);
    expect(tokens.count).toBe(1);
  });

  it('store_unavailable once when the store fails, store_recovered once when it answers again', async () => {
    const tokens = track(await startTokenServer());
    const store = new MemoryStore();
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }, { store }));
    const seen = record(app);
    store.failing = true;
    await app.tokens.getToken('api', { scope: 'a' });
    await app.tokens.getToken('api', { scope: 'b' });
    store.failing = false;
    await app.tokens.getToken('api', { scope: 'c' });
    const storeEvents = seen.filter((e) => e.type.startsWith('store_'));
    expect(storeEvents).toEqual([
      { type: 'store_unavailable', store: 'MemoryStore', at: app.clock.now() },
      { type: 'store_recovered', store: 'MemoryStore', at: app.clock.now() },
    ]);
  });

  it('is hot: a subscriber sees only what happens after it subscribed; completes when the app closes', async () => {
    const tokens = track(await startTokenServer());
    const app = await bootOAuth({ a: oauth2Client(tokens), b: oauth2Client(tokens) });
    await app.tokens.getToken('a');
    const seen = record(app);
    await app.tokens.getToken('b');
    expect(seen.map((e) => [e.type, 'client' in e ? e.client : undefined])).toEqual([['token_fetched', 'b']]);
    const completed = firstValueFrom(app.tokens.events$, { defaultValue: 'completed' });
    await app.close();
    await expect(completed).resolves.toBe('completed');
  });
});

/** A shared store in memory, as two replicas would see Redis; `failing` makes every call throw. */
class MemoryStore implements TokenStore {
  failing = false;
  private readonly values = new Map<string, StoredToken>();
  async get(key: string) {
    this.check();
    return this.values.get(key);
  }
  async set(key: string, value: StoredToken) {
    this.check();
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.check();
    this.values.delete(key);
  }
  async deleteClient() {
    this.check();
  }
  private check() {
    if (this.failing) throw new Error('store down');
  }
}
