// One replica of a fleet: a separate Nest app in its own node process, running the library as
// built (LIB_DIR: tsc's output for the tests, dist/esm for the benchmark), sharing one Redis (one
// server, a Cluster or Sentinel; ioredis or node-redis). Talks to its parent over the IPC channel:
//   → {type:'ready'}
//   ← {type:'burst', keys, calls}   → {type:'burst-done', fulfilled, errors, tokens, latencies}
//   ← {type:'traffic', keys}        → {type:'traffic-started'}
//   ← {type:'stop'}                 → {type:'traffic-done', calls, errors, expired, distinct}
//   ← {type:'status'}               → {type:'status', storeDown, outages}
//   ← {type:'exit'}                 → {type:'closed', redisLeftOpen}
// A key is [client, scope]. Env: LIB_DIR, REDIS (JSON, see `connect`), TOKEN_URL, PREFIX, CLIENTS
// (how many clients c0…), COMMAND_TIMEOUT_MS, LOCK_TTL_MS.
import 'reflect-metadata';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const { LIB_DIR, REDIS, TOKEN_URL, PREFIX, CLIENTS, COMMAND_TIMEOUT_MS, LOCK_TTL_MS } = process.env;
const lib = await import(pathToFileURL(join(LIB_DIR, 'index.js')).href);
const { RedisTokenStore } = await import(pathToFileURL(join(LIB_DIR, 'stores', 'redis', 'index.js')).href);

const warnings = [];
const logger = {
  log: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
  warn: (message) => warnings.push(String(message)),
  error: (message) => warnings.push(String(message)),
};

/** A connection the app owns (the store must leave it open); ready before the parent says go. */
async function connect(config) {
  if (config.kind.startsWith('ioredis')) {
    const { Redis, Cluster } = await import('ioredis');
    const redis =
      config.kind === 'ioredis-cluster'
        ? new Cluster(config.nodes, { clusterRetryStrategy: () => 100 })
        : config.kind === 'ioredis-sentinel'
          ? new Redis({ sentinels: config.sentinels, name: config.name })
          : new Redis(config.url);
    redis.on('error', () => undefined);
    await redis.ping();
    return { redis, ping: async () => (await redis.ping()) === 'PONG', close: () => redis.disconnect() };
  }
  const { createClient, createCluster } = await import('redis');
  const redis =
    config.kind === 'node-redis-cluster'
      ? createCluster({ rootNodes: config.nodes.map((socket) => ({ socket })) })
      : createClient({ url: config.url });
  redis.on('error', () => undefined);
  await redis.connect();
  const ping = async () => {
    try {
      await redis.evalSha('0000000000000000000000000000000000000000', { keys: ['ping'], arguments: [] });
    } catch (error) {
      return /NOSCRIPT/.test(String(error));
    }
    return true;
  };
  return { redis, ping, close: () => redis.destroy() };
}

const connection = await connect(JSON.parse(REDIS));
const store = new RedisTokenStore(connection.redis, {
  prefix: PREFIX,
  commandTimeoutMs: Number(COMMAND_TIMEOUT_MS ?? 5_000),
  ...(LOCK_TTL_MS ? { lockTtlMs: Number(LOCK_TTL_MS) } : {}),
});

const clients = {};
for (let i = 0; i < Number(CLIENTS ?? 1); i++) {
  clients[`c${i}`] = {
    strategy: 'oauth2',
    tokenUrl: TOKEN_URL,
    clientId: `fleet-${i}`,
    clientSecret: 'fleet-secret',
  };
}

class AppModule {}
Module({ imports: [lib.OAuthModule.forRoot({ logger, store, clients })] })(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const tokens = app.get(lib.TokenService);
let storeDown = false;
let outages = 0;
tokens.events$.subscribe((event) => {
  if (event.type === 'store_unavailable') {
    storeDown = true;
    outages++;
  }
  if (event.type === 'store_recovered') storeDown = false;
});

const keyName = ([client, scope]) => `${client}|${scope}`;
const getToken = ([client, scope]) => tokens.getToken(client, { scope });
const errorText = (error) => `${error?.code ?? error?.name}: ${error?.message ?? error}`;

/** `calls` concurrent calls spread over `keys`, all started at once; each call's latency in ms. */
async function burst(keys, calls) {
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: calls }, async (_, i) => {
      const key = keys[i % keys.length];
      const token = await getToken(key);
      return { key: keyName(key), token: token.accessToken, ms: performance.now() - started };
    }),
  );
  const fulfilled = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const tokensByKey = {};
  for (const { key, token } of fulfilled) (tokensByKey[key] ??= new Set()).add(token);
  return {
    fulfilled: fulfilled.length,
    errors: [...new Set(results.filter((r) => r.status === 'rejected').map((r) => errorText(r.reason)))],
    tokens: Object.fromEntries(Object.entries(tokensByKey).map(([key, set]) => [key, [...set]])),
    latencies: fulfilled.map((f) => f.ms),
  };
}

/**
 * Calls on every key in a loop until stopped: each token must be unexpired by the library's own
 * expiry and by the one the token endpoint wrote into it (`AT-<n>-<expires at, epoch ms>`).
 */
function traffic(keys) {
  const report = { calls: 0, errors: [], expired: 0, distinct: new Set() };
  let running = true;
  const loops = keys.flatMap((key) =>
    [0, 1].map(async () => {
      while (running) {
        try {
          const token = await getToken(key);
          const now = Date.now();
          const issuedExpiry = Number(token.accessToken.split('-')[2]);
          if (token.expiresAt <= now || !(issuedExpiry > now)) report.expired++;
          report.calls++;
          report.distinct.add(token.accessToken);
        } catch (error) {
          report.errors.push(errorText(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 15));
      }
    }),
  );
  return async () => {
    running = false;
    await Promise.all(loops);
    return { ...report, errors: [...new Set(report.errors)], distinct: report.distinct.size };
  };
}

let stopTraffic;
process.on('message', async (message) => {
  if (message.type === 'burst') {
    process.send({ type: 'burst-done', ...(await burst(message.keys, message.calls)), warnings });
  } else if (message.type === 'traffic') {
    stopTraffic = traffic(message.keys);
    process.send({ type: 'traffic-started' });
  } else if (message.type === 'stop') {
    process.send({ type: 'traffic-done', ...(await stopTraffic()) });
  } else if (message.type === 'status') {
    // A read of an absent key of every client (every client's slot on a cluster): Redis is back
    // for this store when none of them failed.
    const before = outages;
    await Promise.all(Object.keys(clients).map((client) => store.get(`${client}:probe`)));
    process.send({ type: 'status', storeDown: storeDown || outages !== before, outages });
  } else if (message.type === 'exit') {
    await app.close();
    const redisLeftOpen = await connection.ping().catch(() => false);
    process.send({ type: 'closed', redisLeftOpen });
    connection.close();
    process.disconnect();
  }
});
process.send({ type: 'ready' });
