import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { OAuthConfigError } from '../../lib/index.js';
import { LruMap } from '../../lib/token-cache/lru-map.js';
import { bootOAuth, flushMicrotasks } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { deferred } from '../support/deferred.js';
import { json } from '../support/recording-server.js';
import { oauth2Client, startTokenServer } from '../http/http-support.js';

/**
 * `maxCachedTokens`: the in-process cache keeps at most that many tokens; past it the least
 * recently used goes, never one whose request is in flight.
 */
const { track } = closeAfterEach();

describe('LruMap', () => {
  const keysOf = (map: LruMap<number>) => [...map.keys()];

  it('drops the least recently used entry past max; get marks an entry used, peek does not', () => {
    const map = new LruMap<number>(3);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.get('a')).toBe(1);
    expect(map.peek('b')).toBe(2);
    map.set('d', 4);
    expect(keysOf(map)).toEqual(['c', 'a', 'd']);
    expect(map.has('b')).toBe(false);
    map.set('c', 30); // an update is a use
    map.set('e', 5);
    expect([...map.entries()]).toEqual([
      ['d', 4],
      ['c', 30],
      ['e', 5],
    ]);
  });

  it('skips the entries it is told to keep, and stays over max when only those are left', () => {
    const map = new LruMap<number>(2);
    map.set('busy', 1);
    map.set('a', 2);
    map.set('b', 3, (key) => key === 'busy');
    expect(keysOf(map)).toEqual(['busy', 'b']);
    map.set('c', 4, () => true);
    expect(keysOf(map)).toEqual(['busy', 'b', 'c']);
    map.set('d', 5);
    expect(keysOf(map)).toEqual(['c', 'd']);
  });

  it('delete unlinks from anywhere; iteration survives deleting the entry just visited', () => {
    const map = new LruMap<number>(10);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i);
    expect(map.delete('b')).toBe(true);
    expect(map.delete('b')).toBe(false);
    for (const key of map.keys()) if (key !== 'c') map.delete(key);
    expect(keysOf(map)).toEqual(['c']);
    expect(map.size).toBe(1);
    map.delete('c');
    map.set('z', 1);
    expect(keysOf(map)).toEqual(['z']);
  });
});

describe('maxCachedTokens', () => {
  /** A token endpoint whose tokens name their scope: `<scope>-<n>`, `expires_in` per scope. */
  async function scopedTokenServer(lifetimes: Record<string, number> = {}) {
    const server = track(await startTokenServer());
    let issued = 0;
    const holds = new Map<string, Promise<void>>();
    server.route('POST /oauth/token', async (req, res) => {
      const scope = new URLSearchParams(req.body).get('scope') ?? '';
      const n = ++issued;
      await holds.get(scope);
      json(res, 200, { access_token: `${scope}-${n}`, expires_in: lifetimes[scope] ?? 3600 });
    });
    const scopes = () => server.requests.map((r) => new URLSearchParams(r.body).get('scope'));
    return { server, scopes, hold: (scope: string, until: Promise<void>) => holds.set(scope, until) };
  }

  it('past the limit the least recently used token is dropped; the others are still served from the cache', async () => {
    const tokens = await scopedTokenServer();
    const app = track(await bootOAuth({ api: oauth2Client(tokens.server) }, { maxCachedTokens: 3 }));
    for (const scope of ['a', 'b', 'c']) await app.tokens.getToken('api', { scope });
    await app.tokens.getToken('api', { scope: 'a' }); // a is now the most recently used
    await app.tokens.getToken('api', { scope: 'd' }); // b goes
    expect(tokens.scopes()).toEqual(['a', 'b', 'c', 'd']);

    for (const scope of ['a', 'c', 'd']) await app.tokens.getToken('api', { scope });
    expect(tokens.scopes()).toHaveLength(4);
    await expect(app.tokens.getToken('api', { scope: 'b' })).resolves.toMatchObject({ accessToken: 'b-5' });
  });

  it('a key whose request is in flight (a refresh ahead) is never the one evicted', async () => {
    // a's token lives 100 s (refresh ahead from 37.5 s), the others an hour.
    const tokens = await scopedTokenServer({ a: 100 });
    const app = track(await bootOAuth({ api: oauth2Client(tokens.server) }, { maxCachedTokens: 2 }));
    await app.tokens.getToken('api', { scope: 'a' });
    await app.tokens.getToken('api', { scope: 'b' });
    const refresh = deferred();
    tokens.hold('a', refresh.promise);

    app.clock.advance(40_000);
    const served = await app.tokens.getToken('api', { scope: 'a' }); // served, and a's refresh starts (held)
    expect(served.accessToken).toBe('a-1');
    await app.tokens.getToken('api', { scope: 'b' }); // now a is the least recently used…
    await app.tokens.getToken('api', { scope: 'c' }); // …but in flight: b goes instead
    expect(tokens.scopes()).toEqual(['a', 'b', 'a', 'c']);

    await expect(app.tokens.getToken('api', { scope: 'a' })).resolves.toMatchObject({ accessToken: 'a-1' });
    expect(tokens.scopes()).toHaveLength(4);
    refresh.resolve();
    await flushMicrotasks();
    await app.tokens.getToken('api', { scope: 'b' });
    expect(tokens.scopes()).toEqual(['a', 'b', 'a', 'c', 'b']);
  });

  it('defaults to 10,000 tokens; a value that is not a whole number of at least 1 fails the boot', async () => {
    const tokens = await scopedTokenServer();
    const app = track(await bootOAuth({ api: oauth2Client(tokens.server) }));
    await Promise.all(Array.from({ length: 300 }, (_, i) => app.tokens.getToken('api', { scope: `s${i}` })));
    await Promise.all(Array.from({ length: 300 }, (_, i) => app.tokens.getToken('api', { scope: `s${i}` })));
    expect(tokens.scopes()).toHaveLength(300);

    for (const bad of [0, 1.5, '10']) {
      const error = await bootOAuth({ api: oauth2Client(tokens.server) }, { maxCachedTokens: bad as never }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OAuthConfigError);
      expect(error).toMatchObject({ field: 'maxCachedTokens' });
    }
  });
});
