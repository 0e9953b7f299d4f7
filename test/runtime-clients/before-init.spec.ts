import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Injectable, Module, type DynamicModule, type OnModuleInit, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import { OAuthModule, type TokenStore } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { closeAfterEach } from '../support/cleanup.js';
import { oauth2Client, startTokenServer, startUpstream, type UpstreamServer } from '../http/http-support.js';

/**
 * Calls made before OAuthModule has initialised: a provider's `onModuleInit` that Nest runs before
 * OAuthModule's (its module lies deeper in the import graph) calls its HttpService against a real
 * loopback API, and the API sees the bearer. A real app (`NestFactory.createApplicationContext`).
 */
const { track } = closeAfterEach();

/** What happened, in order: the feature's call, and the store's init (OAuthModule's own init opens it). */
let timeline: string[];

function featureCalling(url: () => string, http: Type | DynamicModule) {
  @Injectable()
  class EarlyCaller implements OnModuleInit {
    authorization: string | null | undefined;
    constructor(readonly http: HttpService) {}
    async onModuleInit(): Promise<void> {
      timeline.push('feature onModuleInit');
      const response = await lastValueFrom(this.http.get<{ authorization: string | null }>(`${url()}/items`));
      this.authorization = response.data.authorization;
    }
  }
  @Module({ imports: [http], providers: [EarlyCaller], exports: [EarlyCaller] })
  class CallerModule {}
  // One level deeper than OAuthModule: Nest runs CallerModule's onModuleInit hooks first.
  @Module({ imports: [CallerModule], exports: [CallerModule] })
  class ParentModule {}
  return { EarlyCaller, ParentModule };
}

/** A store that only records when the module opens it. */
function recordingStore(): TokenStore {
  return {
    init: () => void timeline.push('store init'),
    get: async () => undefined,
    set: async () => undefined,
    delete: async () => undefined,
    deleteClient: async () => undefined,
  };
}

describe('a call in an onModuleInit that runs before OAuthModule’s', () => {
  let upstream: UpstreamServer;

  it.each([
    ['plain HttpModule (the process-wide axios default)', HttpModule],
    ['HttpModule.register()', HttpModule.register({ timeout: 5000 })],
    ['HttpModule.registerAsync()', HttpModule.registerAsync({ useFactory: () => ({ timeout: 5000 }) })],
  ])('carries its bearer token: %s', async (_name, http) => {
    timeline = [];
    const tokens = track(await startTokenServer('early'));
    upstream = track(await startUpstream());
    const logger = new CaptureLogger();
    const { EarlyCaller, ParentModule } = featureCalling(() => upstream.url, http);
    @Module({
      imports: [
        OAuthModule.forRoot({
          logger,
          clock: new FakeClock(),
          store: recordingStore(),
          clients: { api: oauth2Client(tokens, { attachTo: [upstream.url] }) },
        }),
        ParentModule,
      ],
    })
    class AppModule {}

    const app = track(await NestFactory.createApplicationContext(AppModule, { logger: false }));

    expect(app.get(EarlyCaller).authorization).toBe('Bearer early-1');
    expect(upstream.authorizations()).toEqual(['Bearer early-1']);
    // The call really came first: the token request opened the store before OAuthModule's init would have.
    expect(timeline).toEqual(['feature onModuleInit', 'store init']);
    expect(logger.lines.map((l) => l.message)).toContain('Bearer interceptor joined 1 HttpService axios instance(s)');
  });
});
