import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { beforeEach, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { OAuthModule } from '../../lib/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import {
  httpModuleDefaultAxios,
  interceptorCount,
  oauth2Client,
  startTokenServer,
  startUpstream,
  type TokenServer,
  type UpstreamServer,
} from './http-support.js';

const { track, closeNow } = closeAfterEach();

let ledgerTokens: TokenServer;
let billingTokens: TokenServer;
let ledger: UpstreamServer;
let billing: UpstreamServer;
let foreign: UpstreamServer;

beforeEach(async () => {
  for (const start of [
    async () => (ledgerTokens = await startTokenServer('ledger')),
    async () => (billingTokens = await startTokenServer('billing', 'bearer')),
    async () => (ledger = await startUpstream()),
    async () => (billing = await startUpstream()),
    async () => (foreign = await startUpstream()),
  ]) {
    track(await start());
  }
});

type Seen = { authorization: string | null };

/** A feature module with its own HttpModule.register instance and a baseURL. */
@Injectable()
class BillingClient {
  constructor(private readonly http: HttpService) {}
  async invoices(): Promise<Seen> {
    return (await lastValueFrom(this.http.get<Seen>('/v2/items'))).data;
  }
}

async function createApp(): Promise<INestApplication> {
  @Module({
    imports: [HttpModule.register({ baseURL: billing.url })],
    providers: [BillingClient],
    exports: [BillingClient],
  })
  class BillingModule {}

  @Controller()
  class ReportController {
    constructor(
      private readonly http: HttpService,
      private readonly billingClient: BillingClient,
    ) {}

    @Get('report')
    async report() {
      const [ledgerSeen, billingSeen, foreignSeen] = await Promise.all([
        lastValueFrom(this.http.get<Seen>(`${ledger.url}/items`)).then((r) => r.data),
        this.billingClient.invoices(),
        lastValueFrom(this.http.get<Seen>(`${foreign.url}/items`)).then((r) => r.data),
      ]);
      return {
        ledger: ledgerSeen.authorization,
        billing: billingSeen.authorization,
        foreign: foreignSeen.authorization,
      };
    }
  }

  @Module({
    imports: [
      HttpModule,
      BillingModule,
      OAuthModule.forRoot({
        logger: false,
        clients: {
          ledger: oauth2Client(ledgerTokens, { attachTo: [ledger.url] }),
          billing: oauth2Client(billingTokens, { attachTo: [`${billing.url}/v2`] }),
        },
      }),
    ],
    controllers: [ReportController],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return track(app);
}

it('a real Nest app calls two upstreams owned by two clients and a foreign server: each sees only its own token', async () => {
  const axios = await httpModuleDefaultAxios();
  const before = interceptorCount(axios);
  const app = await createApp();
  const { port } = app.getHttpServer().address() as AddressInfo;

  const reports = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const response = await fetch(`http://127.0.0.1:${port}/report`);
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, string | null>;
    }),
  );
  for (const report of reports)
    expect(report).toEqual({ ledger: 'Bearer ledger-1', billing: 'Bearer billing-1', foreign: null });

  expect(new Set(ledger.authorizations())).toEqual(new Set(['Bearer ledger-1']));
  expect(new Set(billing.authorizations())).toEqual(new Set(['Bearer billing-1']));
  expect(foreign.authorizations().every((a) => a === undefined)).toBe(true);
  expect(foreign.requests).toHaveLength(20);
  // 20 concurrent reports: one token request per client.
  expect(ledgerTokens.count).toBe(1);
  expect(billingTokens.count).toBe(1);

  await closeNow(app);
  expect(interceptorCount(axios)).toEqual(before);
});
