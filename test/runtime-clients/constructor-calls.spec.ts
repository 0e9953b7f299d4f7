import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Injectable, Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import { OAuthModule } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import {
  oauth2Client,
  startTokenServer,
  startUpstream,
  type TokenServer,
  type UpstreamServer,
} from '../http/http-support.js';

const { track } = closeAfterEach();

function constructorCaller(url: () => string, path = '/items') {
  @Injectable()
  class ConstructorCaller {
    readonly authorization: Promise<string | null>;
    constructor(http: HttpService) {
      // Nest may create this before OAuthModule's providers: the call must still carry its token.
      this.authorization = lastValueFrom(http.get<{ authorization: string | null }>(`${url()}${path}`)).then(
        (response) => response.data.authorization,
      );
    }
  }
  return ConstructorCaller;
}

type Layout = (caller: Type, oauth: DynamicModule, http: Type | DynamicModule) => Type;

function rootModule(imports: (Type | DynamicModule)[], providers: Type[]): Type {
  @Module({ imports, providers })
  class AppModule {}
  return AppModule;
}

/** Where the caller sits: Nest creates the providers of every module concurrently. */
const layouts: [string, Layout][] = [
  ['the caller in the root module', (caller, oauth, http) => rootModule([http, oauth], [caller])],
  [
    'the caller in a feature module imported first',
    (caller, oauth, http) => rootModule([rootModule([http], [caller]), oauth], []),
  ],
  [
    'the caller in a feature module imported last',
    (caller, oauth, http) => rootModule([oauth, rootModule([http], [caller])], []),
  ],
];

describe('a call made in a provider constructor', () => {
  let tokens: TokenServer;
  let upstream: UpstreamServer;
  const options = () => ({
    logger: false as const,
    clock: new FakeClock(),
    clients: { api: oauth2Client(tokens, { attachTo: [upstream.url] }) },
  });

  for (const [layoutName, layout] of layouts) {
    it.each([
      ['forRoot, HttpModule', () => OAuthModule.forRoot(options()), () => HttpModule],
      [
        'forRoot, HttpModule.register()',
        () => OAuthModule.forRoot(options()),
        () => HttpModule.register({ timeout: 5000 }),
      ],
      [
        'forRoot, HttpModule.registerAsync()',
        () => OAuthModule.forRoot(options()),
        () => HttpModule.registerAsync({ useFactory: () => ({ timeout: 5000 }) }),
      ],
      [
        'forRoot, HttpModule.registerAsync() (async factory)',
        () => OAuthModule.forRoot(options()),
        () =>
          HttpModule.registerAsync({
            useFactory: async () => {
              await new Promise((r) => setImmediate(r));
              return { timeout: 5000 };
            },
          }),
      ],
      [
        'forRootAsync (async factory), HttpModule',
        () =>
          OAuthModule.forRootAsync({
            useFactory: async () => {
              await new Promise((r) => setImmediate(r));
              return options();
            },
          }),
        () => HttpModule,
      ],
      ['global forRoot, HttpModule', () => OAuthModule.forRoot({ ...options(), isGlobal: true }), () => HttpModule],
    ])(`${layoutName}: %s`, async (_name, oauth, http) => {
      tokens = track(await startTokenServer('ctor'));
      upstream = track(await startUpstream());
      const Caller = constructorCaller(() => upstream.url);
      const app = track(await NestFactory.createApplicationContext(layout(Caller, oauth(), http()), { logger: false }));
      await expect(app.get(Caller).authorization).resolves.toBe('Bearer ctor-1');
    });
  }

  it('a call no client claims goes out as it was, without a token', async () => {
    tokens = track(await startTokenServer('ctor'));
    upstream = track(await startUpstream());
    const Caller = constructorCaller(() => upstream.url);
    const unclaimed = {
      logger: false as const,
      clock: new FakeClock(),
      clients: { api: oauth2Client(tokens, { attachTo: [`${upstream.url}/other`] }) },
    };
    const app = track(
      await NestFactory.createApplicationContext(rootModule([HttpModule, OAuthModule.forRoot(unclaimed)], [Caller]), {
        logger: false,
      }),
    );
    await expect(app.get(Caller).authorization).resolves.toBeNull();
    expect(upstream.authorizations()).toEqual([undefined]);
    expect(tokens.count).toBe(0);
  });

  it('in a TestingModule, compiled', async () => {
    tokens = track(await startTokenServer('ctor'));
    upstream = track(await startUpstream());
    const Caller = constructorCaller(() => upstream.url);
    const moduleRef = track(
      await Test.createTestingModule({
        imports: [HttpModule, OAuthModule.forRoot(options())],
        providers: [Caller],
      }).compile(),
    );
    await expect(moduleRef.get(Caller).authorization).resolves.toBe('Bearer ctor-1');
  });
});
