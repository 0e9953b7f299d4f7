import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { OAuthModule, TokenService, type OAuthClientOptions } from '../../lib/index.js';
import { OAuthHealthIndicator } from '../../lib/terminus/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { oauth2Client, startTokenServer, type TokenServer } from '../http/http-support.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json } from '../support/recording-server.js';

/**
 * `OAuthHealthIndicator` in a real Nest app with TerminusModule, over HTTP: `GET /health` through
 * platform-express answers 200 while every client is up and 503 when one is down.
 */
const { track } = closeAfterEach();

async function startApp(clients: Record<string, OAuthClientOptions>, only?: string[]) {
  @Controller('health')
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly oauth: OAuthHealthIndicator,
    ) {}

    @Get()
    @HealthCheck()
    check() {
      return this.health.check([() => this.oauth.isHealthy('oauth', only === undefined ? {} : { clients: only })]);
    }
  }
  const clock = new FakeClock();
  @Module({
    imports: [TerminusModule, OAuthModule.forRoot({ clients, clock, logger: false, retry: { maxAttempts: 1 } })],
    controllers: [HealthController],
    providers: [OAuthHealthIndicator],
  })
  class HealthAppModule {}
  const app: INestApplication = await NestFactory.create(HealthAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  track({ close: () => app.close() });
  const url = `${await app.getUrl()}/health`;
  const probe = async () => {
    const response = await fetch(url);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { tokens: app.get(TokenService), clock, probe };
}

function failingClient(tokens: TokenServer, path: string, status: number, body: unknown, headers = {}) {
  tokens.route(`POST ${path}`, (_req, res) => json(res, status, body, headers));
  return oauth2Client(tokens, { tokenUrl: `${tokens.url}${path}` });
}

describe('OAuthHealthIndicator', () => {
  it('up: a client with a token reports its time to expiry; one never asked is up too; no token request', async () => {
    const tokens = track(await startTokenServer());
    const { tokens: service, clock, probe } = await startApp({ api: oauth2Client(tokens), idle: oauth2Client(tokens) });
    await service.getToken('api');
    clock.advance(600_000);
    const { status, body } = await probe();
    expect(status).toBe(200);
    expect(body.info).toEqual({
      oauth: { status: 'up', clients: { api: { status: 'up', expiresInSeconds: 3000 }, idle: { status: 'up' } } },
    });
    expect(tokens.count).toBe(1);
  });

  it('down (503) when a client failed with an error retrying does not fix and holds no token', async () => {
    const tokens = track(await startTokenServer());
    const { tokens: service, probe } = await startApp({
      api: oauth2Client(tokens),
      broken: failingClient(tokens, '/broken', 401, { error: 'invalid_client' }),
    });
    await service.getToken('api');
    await expect(service.getToken('broken')).rejects.toMatchObject({ code: 'invalid_client' });
    const { status, body } = await probe();
    expect(status).toBe(503);
    expect(body.error).toEqual({
      oauth: {
        status: 'down',
        clients: {
          api: { status: 'up', expiresInSeconds: 3600 },
          broken: { status: 'down', lastError: 'invalid_client' },
        },
      },
    });
  });

  it('down during a cooldown; up again once a token is had; `clients` limits the check', async () => {
    const tokens = track(await startTokenServer());
    let refuse = true;
    tokens.route('POST /busy', (_req, res) =>
      refuse
        ? json(res, 429, { error: 'slow_down' }, { 'retry-after': '5' })
        : json(res, 200, { access_token: 'fresh', expires_in: 3600 }),
    );
    const clients = { busy: oauth2Client(tokens, { tokenUrl: `${tokens.url}/busy` }), api: oauth2Client(tokens) };
    const { tokens: service, clock, probe } = await startApp(clients, ['busy']);
    await expect(service.getToken('busy')).rejects.toMatchObject({ code: 'rate_limited' });
    const down = await probe();
    expect(down.status).toBe(503);
    expect(down.body.error).toEqual({
      oauth: { status: 'down', clients: { busy: { status: 'down', lastError: 'rate_limited' } } },
    });
    refuse = false;
    clock.advance(5_000);
    await service.getToken('busy');
    const up = await probe();
    expect(up.status).toBe(200);
    expect(up.body.info).toEqual({
      oauth: { status: 'up', clients: { busy: { status: 'up', expiresInSeconds: 3600 } } },
    });
  });

  it('a network error that retrying may fix leaves the client up', async () => {
    const tokens = track(await startTokenServer());
    const { tokens: service, probe } = await startApp({
      flaky: failingClient(tokens, '/flaky', 503, { error: 'temporarily_unavailable' }),
    });
    await expect(service.getToken('flaky')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect((await probe()).status).toBe(200);
  });
});
