// One replica for the DPoP-through-Redis test: a Nest app in its own node process, running the
// library as built by tsc (LIB_DIR), with a DPoP key (DPOP_KEY, a PEM; empty: made at boot) and the
// shared RedisTokenStore. It gets one token, reports it, and exits.
import 'reflect-metadata';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';

const { LIB_DIR, REDIS_URL, TOKEN_URL, DPOP_KEY } = process.env;
const lib = await import(pathToFileURL(join(LIB_DIR, 'index.js')).href);
const { RedisTokenStore } = await import(pathToFileURL(join(LIB_DIR, 'stores', 'redis', 'index.js')).href);

const redis = new Redis(REDIS_URL);
class AppModule {}
Module({
  imports: [
    lib.OAuthModule.forRoot({
      logger: false,
      store: new RedisTokenStore(redis, { prefix: 'dpop:', commandTimeoutMs: 5_000 }),
      clients: {
        api: {
          strategy: 'oauth2',
          tokenUrl: TOKEN_URL,
          clientId: 'dpop-client',
          clientSecret: 'dpop-secret',
          dpop: DPOP_KEY ? { key: DPOP_KEY } : true,
        },
      },
    }),
  ],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
try {
  const token = await app.get(lib.TokenService).getToken('api');
  process.send({ type: 'done', accessToken: token.accessToken, tokenType: token.tokenType });
} catch (error) {
  process.send({ type: 'done', error: String(error?.message ?? error) });
} finally {
  await app.close();
  redis.disconnect();
}
