import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { OAuthConfigError, type OAuthClientOptions, type StoredToken } from '../../lib/index.js';
import { RedisTokenStore, type RedisTokenStoreOptions } from '../../lib/stores/redis/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { deferred } from '../support/deferred.js';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

const CLIENT = 'billing-gateway';
const SECRET = 'S3cr3t-never-in-redis-keys';
const T0 = Date.UTC(2026, 0, 1);

let redis: RedisServer;
let admin: Redis;
let server: RecordingServer;
let issued = 0;
let respond: (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;
const issue = (_req: RecordedRequest, res: ServerResponse) =>
  json(res, 200, {
    access_token: `AT-${++issued}-${randomBytes(6).toString('hex')}`,
    token_type: 'Bearer',
    expires_in: 3600,
  });

let prefix: string;
let testNo = 0;
const apps: Booted[] = [];
const stores: RedisTokenStore[] = [];

const clients = (): Record<string, OAuthClientOptions> => ({
  [CLIENT]: {
    strategy: 'oauth2',
    tokenUrl: `${server.url}/oauth/token`,
    clientId: 'svc',
    clientSecret: SECRET,
    scope: 'read',
  },
});

function newStore(options: RedisTokenStoreOptions = {}): RedisTokenStore {
  const store = new RedisTokenStore({ host: '127.0.0.1', port: redis.port }, { prefix, ...options });
  stores.push(store);
  return store;
}

/** One replica: a Nest app with its own Redis connection and its own clock. */
async function replica(options: RedisTokenStoreOptions = {}, clock = new FakeClock(T0)): Promise<Booted> {
  const app = await bootOAuth(clients(), { store: newStore(options), clock });
  apps.push(app);
  return app;
}

const warnings = (app: { logger: CaptureLogger }) =>
  app.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
const valueKeys = () => admin.keys(`${prefix}*:t:*`);
const lockKeys = () => admin.keys(`${prefix}*:l:*`);

/**
 * A `fetchExclusive` on `store` that says when it has started, then writes `accessToken` and
 * returns it only when told to finish (a holder that stalls mid-fetch).
 */
function heldFetch(store: RedisTokenStore, accessToken: string, obtainedAt = T0) {
  const started = deferred();
  const mayFinish = deferred();
  const done = store.fetchExclusive('c:k', async () => {
    started.resolve();
    await mayFinish.promise;
    const value = stored(accessToken, obtainedAt);
    await store.set('c:k', value, 60_000);
    return value;
  });
  return { started: started.promise, finish: () => mayFinish.resolve(), done };
}

/** Polls `condition` every 10 ms until it holds; fails after `boundMs`. */
async function until(condition: () => boolean | Promise<boolean>, boundMs = 5_000, what = 'condition'): Promise<void> {
  const giveUp = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > giveUp) throw new Error(`${what} not reached within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const stored = (accessToken: string, obtainedAt: number): StoredToken => ({
  token: { accessToken, tokenType: 'Bearer', expiresAt: obtainedAt + 3_600_000 },
  obtainedAt,
});

describeWithRedis('RedisTokenStore against a real redis-server', () => {
  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await admin.connect();
    server = await startRecordingServer({ 'POST /oauth/token': (req, res) => respond(req, res) });
  });
  afterAll(async () => {
    await server?.close();
    admin?.disconnect();
    await redis?.stop();
  });
  beforeEach(() => {
    prefix = `t${++testNo}:`;
    respond = issue;
    server.requests.length = 0;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  describe('sharing between replicas', () => {
    it('replica B serves the token replica A fetched, with its real expiry (TTL in Redis from expiresAt)', async () => {
      const a = await replica();
      const tokenA = await a.tokens.getToken(CLIENT);
      expect(tokenA.expiresAt).toBe(T0 + 3_600_000);

      const b = await replica({}, new FakeClock(T0 + 10 * 60_000));
      const tokenB = await b.tokens.getToken(CLIENT);
      expect(tokenB).toEqual(tokenA);
      expect(server.requests).toHaveLength(1);

      const [key] = await valueKeys();
      const pttl = await admin.pttl(key!);
      expect(pttl).toBeGreaterThan(3_500_000);
      expect(pttl).toBeLessThanOrEqual(3_600_000);

      // Past its servable window (expiry minus skew) by B's clock, the shared token is not used.
      b.clock.set(T0 + 3_600_000 - 30_000);
      const renewed = await b.tokens.getToken(CLIENT);
      expect(renewed.accessToken).not.toBe(tokenA.accessToken);
      expect(server.requests).toHaveLength(2);
    });

    it('keys are prefixed and hashed: no client name, secret or token in any Redis key', async () => {
      const a = await replica();
      const token = await a.tokens.getToken(CLIENT);
      const keys = await admin.keys('*');
      const mine = keys.filter((k) => k.startsWith(prefix));
      expect(mine.length).toBeGreaterThan(0);
      for (const key of mine) {
        expect(key).not.toContain(CLIENT);
        expect(key).not.toContain(encodeURIComponent(CLIENT));
        expect(key).not.toContain(SECRET);
        expect(key).not.toContain(token.accessToken);
      }
    });

    it('three replicas in one process, 300 concurrent calls on a cold key: one token request', async () => {
      const replicas = await Promise.all([replica(), replica(), replica()]);
      const tokens = await Promise.all(
        replicas.flatMap((r) => Array.from({ length: 100 }, () => r.tokens.getToken(CLIENT))),
      );
      expect(server.requests).toHaveLength(1);
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
      await until(async () => (await lockKeys()).length === 0, 5_000, 'lock released'); // in the background, after the call
    });

    it('a failure without a retry hint (not invalid_client) is not shared: the next replica asks again at once', async () => {
      respond = (_req, res) => json(res, 400, { error: 'invalid_scope' });
      const a = await replica({ lockTtlMs: 60_000 });
      await expect(a.tokens.getToken(CLIENT)).rejects.toMatchObject({ code: 'invalid_scope' });
      await until(async () => (await lockKeys()).length === 0, 5_000, 'lock released'); // in the background, after the call
      respond = issue;
      const b = await replica({ lockTtlMs: 60_000 });
      await expect(b.tokens.getToken(CLIENT)).resolves.toMatchObject({ tokenType: 'Bearer' });
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('encryption at rest (AES-256-GCM)', () => {
    const key = randomBytes(32);

    it('round trip: Redis holds ciphertext; a replica with the same key reads the token', async () => {
      const a = await replica({ encryptionKey: key });
      const token = await a.tokens.getToken(CLIENT);
      const [valueKey] = await valueKeys();
      const raw = JSON.stringify(await admin.hgetall(valueKey!));
      expect(raw).not.toContain(token.accessToken);
      expect(raw).not.toContain('Bearer');

      const b = await replica({ encryptionKey: key.toString('base64') });
      expect(await b.tokens.getToken(CLIENT)).toEqual(token);
      expect(server.requests).toHaveLength(1);
    });

    it('a wrong key is a cache miss with a warning, never a crash or a wrong token', async () => {
      const a = await replica({ encryptionKey: key });
      const tokenA = await a.tokens.getToken(CLIENT);
      const b = await replica({ encryptionKey: randomBytes(32).toString('hex') });
      const tokenB = await b.tokens.getToken(CLIENT);
      expect(tokenB.accessToken).not.toBe(tokenA.accessToken);
      expect(server.requests).toHaveLength(2);
      const warned = warnings(b);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('wrong encryption key or corrupt value');
      expect(warned[0]).not.toContain(tokenA.accessToken);
    });

    it('a corrupt, unencrypted or foreign value is a miss with a warning', async () => {
      const logger = new CaptureLogger();
      const sealed = newStore({ encryptionKey: key });
      const plain = newStore();
      await sealed.init({ logger, clock: new FakeClock() });
      await plain.init({ logger, clock: new FakeClock() });

      await sealed.set('c:k1', stored('AT-sealed', T0), 60_000);
      expect(await sealed.get('c:k1')).toEqual(stored('AT-sealed', T0));
      expect(await plain.get('c:k1')).toBeUndefined(); // encrypted, but this store has no key

      await plain.set('c:k2', stored('AT-plain', T0), 60_000);
      expect(await sealed.get('c:k2')).toBeUndefined(); // must be encrypted when a key is set

      const keys = await valueKeys();
      expect(keys).toHaveLength(2);
      for (const garbage of [
        'e1:AAAA',
        'e1:' + randomBytes(64).toString('base64'),
        'p1:{"token":1}',
        'p1:not json',
        'zz',
      ]) {
        for (const valueKey of keys) await admin.hset(valueKey, 'd', garbage, 'w', randomBytes(4).toString('hex'));
        await expect(sealed.get('c:k1')).resolves.toBeUndefined();
        await expect(sealed.get('c:k2')).resolves.toBeUndefined();
        await expect(plain.get('c:k1')).resolves.toBeUndefined();
        await expect(plain.get('c:k2')).resolves.toBeUndefined();
      }
      const texts = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(texts.some((t) => t.includes('encrypted, but no key configured'))).toBe(true);
      expect(texts.some((t) => t.includes('not encrypted'))).toBe(true);
      expect(texts.some((t) => t.includes('malformed value'))).toBe(true);
      expect(texts.join('\n')).not.toMatch(/AT-sealed|AT-plain/);
    });

    it('rejects a key that is not 32 bytes, naming the option', () => {
      for (const bad of ['short', randomBytes(16), randomBytes(31).toString('hex')]) {
        expect(
          () => new RedisTokenStore({ host: '127.0.0.1', port: redis.port, lazyConnect: true }, { encryptionKey: bad }),
        ).toThrow(OAuthConfigError);
      }
      expect(() => new RedisTokenStore({ lazyConnect: true }, { encryptionKey: 'short' })).toThrow(/encryptionKey/);
    });
  });

  describe('the fetch lock', () => {
    it('a holder whose lock lapsed cannot overwrite the token of the replica that took over, nor release its lock', async () => {
      const logger = new CaptureLogger();
      const a = newStore({ lockTtlMs: 60_000 });
      const b = newStore({ lockTtlMs: 60_000 });
      for (const s of [a, b]) await s.init({ logger, clock: new FakeClock() });

      const aFetch = heldFetch(a, 'AT-stale');
      await aFetch.started;
      // A stalls (GC pause, frozen VM) past its lock's lifetime: the lock lapses.
      const [lock] = await lockKeys();
      await admin.del(lock!);

      const bFetch = heldFetch(b, 'AT-fresh', T0 + 1_000);
      await bFetch.started;
      const bFence = await admin.get(lock!);
      expect(bFence).not.toBeNull();

      // A wakes up while B holds the lock: its write is refused and its release leaves B's lock alone.
      aFetch.finish();
      await expect(aFetch.done).resolves.toMatchObject({ token: { accessToken: 'AT-stale' } });
      expect(await admin.get(lock!)).toBe(bFence);
      expect(await a.get('c:k')).toBeUndefined();

      bFetch.finish();
      await expect(bFetch.done).resolves.toMatchObject({ token: { accessToken: 'AT-fresh' } });
      expect((await a.get('c:k'))?.token.accessToken).toBe('AT-fresh');

      // Later, with no lock held, a write of an older token still cannot replace the newer one.
      await a.set('c:k', stored('AT-stale', T0), 60_000);
      expect((await b.get('c:k'))?.token.accessToken).toBe('AT-fresh');
      await until(async () => (await lockKeys()).length === 0, 5_000, 'lock released'); // in the background, after the call
    });

    it('a crashed holder blocks the others at most lockTtlMs; then one of them fetches', async () => {
      const logger = new CaptureLogger();
      const lockTtlMs = 300;
      const crashing = new Redis({ host: '127.0.0.1', port: redis.port });
      const a = new RedisTokenStore(crashing, { prefix, lockTtlMs });
      const b = newStore({ lockTtlMs });
      for (const s of [a, b]) await s.init({ logger, clock: new FakeClock() });

      const never = deferred<StoredToken>();
      const aDone = a.fetchExclusive('c:k', () => never.promise);
      await until(async () => (await lockKeys()).length === 1, 5_000, 'lock taken');
      crashing.disconnect(); // the holder dies: no renewal, no release, no write

      let bFetches = 0;
      const started = Date.now();
      const value = await b.fetchExclusive('c:k', async () => {
        bFetches++;
        const token = stored('AT-after-crash', T0);
        await b.set('c:k', token, 60_000);
        return token;
      });
      const waited = Date.now() - started;
      expect(value.token.accessToken).toBe('AT-after-crash');
      expect(bFetches).toBe(1);
      expect(waited).toBeLessThan(lockTtlMs + 2_000); // loose: a noisy machine
      never.resolve(stored('AT-ghost', T0));
      await aDone;
      await a.close();
    });

    it('a live holder renews its lock while it fetches, so nobody else fetches meanwhile', async () => {
      const logger = new CaptureLogger();
      const lockTtlMs = 150;
      const a = newStore({ lockTtlMs });
      const b = newStore({ lockTtlMs });
      for (const s of [a, b]) await s.init({ logger, clock: new FakeClock() });
      const aFetch = heldFetch(a, 'AT-slow');
      await aFetch.started;
      let bFetches = 0;
      const bDone = b.fetchExclusive('c:k', async () => {
        bFetches++;
        return stored('AT-duplicate', T0);
      });
      // Outlive several lock lifetimes: renewal keeps the lock, B keeps waiting.
      const [lock] = await lockKeys();
      const until3Ttl = Date.now() + 3 * lockTtlMs;
      await until(
        async () => Date.now() > until3Ttl && (await admin.exists(lock!)) === 1,
        5_000,
        'lock outlived its ttl',
      );
      expect(bFetches).toBe(0);
      aFetch.finish();
      await expect(aFetch.done).resolves.toMatchObject({ token: { accessToken: 'AT-slow' } });
      await expect(bDone).resolves.toMatchObject({ token: { accessToken: 'AT-slow' } });
      expect(bFetches).toBe(0);
    });
  });

  describe('invalidate across replicas', () => {
    /** Replicas subscribe to invalidations in the background: wait until `count` listen. */
    const listening = (count: number) =>
      until(
        async () => Number(((await admin.pubsub('NUMSUB', `${prefix}invalidate`)) as [string, number])[1]) >= count,
        5_000,
        'subscribers',
      );

    it("invalidate(client) drops the shared entries and the other replicas' in-process copies", async () => {
      const a = await replica();
      const b = await replica();
      await listening(2);
      const first = await a.tokens.getToken(CLIENT);
      await a.tokens.getToken(CLIENT, { scope: 'write' });
      expect(await b.tokens.getToken(CLIENT)).toEqual(first);
      expect(await valueKeys()).toHaveLength(2);

      await a.tokens.invalidate(CLIENT);
      expect(await valueKeys()).toEqual([]);
      // B held `first` in memory; the broadcast drops it, so B's next call fetches a new token.
      let fresh = first;
      await until(
        async () => (fresh = await b.tokens.getToken(CLIENT)).accessToken !== first.accessToken,
        5_000,
        'B dropped the token',
      );
      expect(server.requests).toHaveLength(3);
      expect(await a.tokens.getToken(CLIENT)).toEqual(fresh); // A reads B's new token from Redis
      expect(server.requests).toHaveLength(3);
    });

    it('invalidate(client, { scope }) drops only that scope, in Redis and on the other replicas', async () => {
      const a = await replica();
      const b = await replica();
      await listening(2);
      const read = await a.tokens.getToken(CLIENT);
      const write = await a.tokens.getToken(CLIENT, { scope: 'write' });
      expect(await b.tokens.getToken(CLIENT, { scope: 'write' })).toEqual(write);
      await a.tokens.invalidate(CLIENT, { scope: 'write' });
      expect(await b.tokens.getToken(CLIENT)).toEqual(read);
      await until(
        async () => (await b.tokens.getToken(CLIENT, { scope: 'write' })).accessToken !== write.accessToken,
        5_000,
        'B dropped write',
      );
      expect(server.requests).toHaveLength(3);
    });

    it('401 compare-and-invalidate: the rejected token goes everywhere; a late 401 never drops the newer token', async () => {
      const a = await replica();
      const b = await replica();
      await listening(2);
      const t1 = await a.tokens.getToken(CLIENT);
      expect(await b.tokens.getToken(CLIENT)).toEqual(t1);

      // A sees a 401 with t1: drops it (here, in Redis and on B, all still holding t1) and gets t2.
      await a.tokens.invalidate(CLIENT, { accessToken: t1.accessToken });
      const t2 = await a.tokens.getToken(CLIENT);
      expect(t2.accessToken).not.toBe(t1.accessToken);
      // B drops t1 when told, and then picks t2 up from Redis without a request.
      await until(async () => (await b.tokens.getToken(CLIENT)).accessToken === t2.accessToken, 5_000, 'B moved to t2');

      // A call B made earlier with t1 comes back 401: Redis and A hold t2, which both stay.
      await b.tokens.invalidate(CLIENT, { accessToken: t1.accessToken });
      expect(await valueKeys()).toHaveLength(1);
      expect(await b.tokens.getToken(CLIENT)).toEqual(t2);
      expect(await a.tokens.getToken(CLIENT)).toEqual(t2);
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('the Redis connection', () => {
    it('a Redis instance passed in is left open by close(); one the store created is closed', async () => {
      const own = new Redis({ host: '127.0.0.1', port: redis.port });
      const app = await bootOAuth(clients(), { store: new RedisTokenStore(own, { prefix }), clock: new FakeClock(T0) });
      await app.tokens.getToken(CLIENT);
      await app.close();
      expect(await own.ping()).toBe('PONG');
      own.disconnect();

      const created = new RedisTokenStore(redis.url, { prefix });
      expect(await created.get('c:none')).toBeUndefined();
      await created.close();
      const clientsAfter = await admin.client('LIST');
      expect(
        String(clientsAfter)
          .split('\n')
          .filter((l) => l.trim() !== '').length,
      ).toBe(1); // only admin
    });
  });
});
