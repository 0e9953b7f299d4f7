import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { OAuthClients, type OAuthClientOptions } from '../../lib/index.js';
import { RedisTokenStore } from '../../lib/stores/redis/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { oauth2Client, startTokenServer, type TokenServer } from '../http/http-support.js';

/**
 * Runtime clients with a shared store (a real redis-server): their tokens are shared like a boot
 * client's, and `remove` (or `replace: true`) drops them from Redis too, so no replica is handed a
 * removed client's token from the store.
 */
const { track } = closeAfterEach();

let redis: RedisServer;
let admin: Redis;
let testNo = 0;

describeWithRedis('OAuthClients with RedisTokenStore', () => {
  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await admin.connect();
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  /** One replica: its own app and Redis connection, the test's key prefix. */
  async function replica(prefix: string, tokens: TokenServer): Promise<Booted & { clients: OAuthClients }> {
    const store = new RedisTokenStore({ host: '127.0.0.1', port: redis.port }, { prefix });
    track({ close: () => store.close() });
    const app = track(await bootOAuth({ api: oauth2Client(tokens) }, { store }));
    return Object.assign(app, { clients: app.moduleRef.get(OAuthClients) });
  }
  const valueKeys = (prefix: string) => admin.keys(`${prefix}*:t:*`);
  const tenant = (tokens: TokenServer): OAuthClientOptions => oauth2Client(tokens, { clientId: 'tenant-7' });

  it('remove drops the client’s tokens from Redis: a replica adding it later fetches its own', async () => {
    const prefix = `rc${++testNo}:`;
    const tokens = track(await startTokenServer('t'));
    const a = await replica(prefix, tokens);
    await a.tokens.getToken('api');
    await a.clients.add('tenant', tenant(tokens));
    const fetched = await a.tokens.getToken('tenant');
    expect(await valueKeys(prefix)).toHaveLength(2);

    // Shared like a boot client's token: replica B gets it from Redis.
    const b = await replica(prefix, tokens);
    await b.clients.add('tenant', tenant(tokens));
    await expect(b.tokens.getToken('tenant')).resolves.toEqual(fetched);
    expect(tokens.count).toBe(2);

    await a.clients.remove('tenant');
    expect(await valueKeys(prefix)).toHaveLength(1); // api's is still there

    const c = await replica(prefix, tokens);
    await c.clients.add('tenant', tenant(tokens));
    const fresh = await c.tokens.getToken('tenant');
    expect(fresh.accessToken).not.toBe(fetched.accessToken);
    expect(tokens.count).toBe(3);
  });

  it('replace: true drops the old client’s tokens from Redis too', async () => {
    const prefix = `rc${++testNo}:`;
    const tokens = track(await startTokenServer('t'));
    const a = await replica(prefix, tokens);
    await a.clients.add('tenant', tenant(tokens));
    const old = await a.tokens.getToken('tenant');

    await a.clients.add('tenant', tenant(tokens), { replace: true });
    expect(await valueKeys(prefix)).toHaveLength(0);

    const b = await replica(prefix, tokens);
    await b.clients.add('tenant', tenant(tokens));
    expect((await b.tokens.getToken('tenant')).accessToken).not.toBe(old.accessToken);
    expect(tokens.count).toBe(2);
  });
});
