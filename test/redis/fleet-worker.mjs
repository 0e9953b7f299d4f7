// One replica of the fleet test: a separate Nest app in its own node process, running the library
// as built by tsc (LIB_DIR), sharing one Redis. Talks to the test over the IPC channel:
//   → {type:'ready'}   ← {type:'go'}   → {type:'done', ...}   ← {type:'exit'}
import 'reflect-metadata';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';

const { LIB_DIR, REDIS_URL, TOKEN_URL, CALLS, PREFIX } = process.env;
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

// A connection the app owns (the store must leave it open); ready before the test says go.
const redis = new Redis(REDIS_URL);
await redis.ping();

class AppModule {}
Module({
  imports: [
    lib.OAuthModule.forRoot({
      logger,
      // A generous bound: this test is about single flight, not about a starved CPU's timeouts.
      store: new RedisTokenStore(redis, { prefix: PREFIX, commandTimeoutMs: 5_000 }),
      clients: {
        fleet: {
          strategy: 'oauth2',
          tokenUrl: TOKEN_URL,
          clientId: 'fleet-client',
          clientSecret: 'fleet-secret',
          scope: 'read',
        },
      },
    }),
  ],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const tokens = app.get(lib.TokenService);

process.on('message', async (message) => {
  if (message.type === 'go') {
    const results = await Promise.allSettled(Array.from({ length: Number(CALLS) }, () => tokens.getToken('fleet')));
    const fulfilled = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const errors = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason?.message ?? r.reason));
    process.send({
      type: 'done',
      fulfilled: fulfilled.length,
      distinct: [...new Set(fulfilled.map((t) => `${t.accessToken}|${t.expiresAt}`))],
      errors: [...new Set(errors)],
      warnings,
    });
  } else if (message.type === 'exit') {
    await app.close();
    const stillOpen = (await redis.ping()) === 'PONG';
    process.send({ type: 'closed', redisLeftOpen: stillOpen });
    redis.disconnect();
    process.disconnect();
  }
});
process.send({ type: 'ready' });
