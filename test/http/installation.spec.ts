import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { AxiosInstance } from 'axios';
import { lastValueFrom } from 'rxjs';
import { OAuthModule, type OAuthClientOptions } from '../../lib/index.js';
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

let tokens: TokenServer;
let upstream: UpstreamServer;
let baseline: { request: number; response: number };
/** The axios default that plain HttpModule binds (see httpModuleDefaultAxios). */
let axios: AxiosInstance;
beforeAll(async () => {
  axios = await httpModuleDefaultAxios();
});
beforeEach(async () => {
  tokens = track(await startTokenServer('t'));
  upstream = track(await startUpstream());
  baseline = interceptorCount(axios);
});

const clientsFor = (tokenServer: TokenServer, attachTo: string): Record<string, OAuthClientOptions> => ({
  api: oauth2Client(tokenServer, { attachTo: [attachTo] }),
});

const oauthRoot = (clients = clientsFor(tokens, upstream.url)) => OAuthModule.forRoot({ logger: false, clients });

async function authorizationVia(http: HttpService): Promise<string | null> {
  return (await lastValueFrom(http.get<{ authorization: string | null }>(`${upstream.url}/items`))).data.authorization;
}

/** Feature modules, each with its own flavour of HttpModule and a service that calls out. */
function feature(name: string, http: unknown) {
  @Injectable()
  class Caller {
    constructor(readonly http: HttpService) {}
  }
  Object.defineProperty(Caller, 'name', { value: `${name}Caller` });
  @Module({ imports: [http as typeof HttpModule], providers: [Caller], exports: [Caller] })
  class Feature {}
  Object.defineProperty(Feature, 'name', { value: `${name}Module` });
  return { Feature, Caller };
}

async function compile(imports: unknown[]): Promise<TestingModule> {
  const moduleRef = track(await Test.createTestingModule({ imports: imports as [] }).compile());
  await moduleRef.init();
  return moduleRef;
}

describe('one interceptor per axios instance, for every HttpService the app can inject', () => {
  it('plain HttpModule binds the process-wide axios default: installed once, ejected on close', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HttpModule, oauthRoot()] }).compile();
    await moduleRef.init();
    const http = moduleRef.get(HttpService);
    expect(http.axiosRef).toBe(axios);
    expect(interceptorCount(axios)).toEqual({ request: baseline.request + 1, response: baseline.response + 1 });
    expect(await authorizationVia(http)).toBe('Bearer t-1');
    await moduleRef.close();
    expect(interceptorCount(axios)).toEqual(baseline);
  });

  it('finds HttpModule, HttpModule.register and registerAsync instances in any feature module (OAuthModule not global)', async () => {
    const plain = feature('Plain', HttpModule);
    const registered = feature('Registered', HttpModule.register({ timeout: 5000 }));
    const asyncRegistered = feature('Async', HttpModule.registerAsync({ useFactory: () => ({ timeout: 5000 }) }));
    const alsoPlain = feature('AlsoPlain', HttpModule);
    const moduleRef = await compile([
      plain.Feature,
      registered.Feature,
      asyncRegistered.Feature,
      alsoPlain.Feature,
      oauthRoot(),
    ]);

    const services = [plain, registered, asyncRegistered, alsoPlain].map((f) => moduleRef.get(f.Caller).http);
    const instances = new Set<AxiosInstance>(services.map((s) => s.axiosRef));
    expect(instances.size).toBe(3); // the two plain imports share the default
    for (const instance of instances) {
      expect(interceptorCount(instance)).toEqual(
        instance === axios
          ? { request: baseline.request + 1, response: baseline.response + 1 }
          : { request: 1, response: 1 },
      );
    }
    for (const service of services) expect(await authorizationVia(service)).toBe('Bearer t-1');
    expect(tokens.count).toBe(1);

    await closeNow(moduleRef);
    for (const instance of instances)
      expect(interceptorCount(instance)).toEqual(instance === axios ? baseline : { request: 0, response: 0 });
  });

  it('works when OAuthModule is global (forRootAsync isGlobal) and when it is imported by one feature only', async () => {
    const registered = feature('Registered', HttpModule.register({}));
    const moduleRef = await compile([
      registered.Feature,
      OAuthModule.forRootAsync({
        isGlobal: true,
        useFactory: () => ({ logger: false as const, clients: clientsFor(tokens, upstream.url) }),
      }),
    ]);
    expect(await authorizationVia(moduleRef.get(registered.Caller).http)).toBe('Bearer t-1');
    expect(interceptorCount(moduleRef.get(registered.Caller).http.axiosRef)).toEqual({ request: 1, response: 1 });

    const other = feature('Other', HttpModule.register({}));
    @Module({ imports: [oauthRoot()] })
    class OAuthInside {}
    const second = await compile([other.Feature, OAuthInside]);
    expect(await authorizationVia(second.get(other.Caller).http)).toBe('Bearer t-2'); // its own TokenService, its own token
  });

  it('two OAuthModule registrations in one app join one interceptor per instance, each attaching its own clients', async () => {
    const otherTokens = track(await startTokenServer('o'));
    const otherUpstream = track(await startUpstream());
    @Module({
      imports: [
        OAuthModule.forRoot({
          logger: false,
          clients: { other: oauth2Client(otherTokens, { attachTo: [otherUpstream.url] }) },
        }),
      ],
    })
    class OtherOAuth {}
    const registered = feature('Registered', HttpModule.register({}));
    const moduleRef = await compile([registered.Feature, oauthRoot(), OtherOAuth]);
    const http = moduleRef.get(registered.Caller).http;
    expect(interceptorCount(http.axiosRef)).toEqual({ request: 1, response: 1 });
    expect(await authorizationVia(http)).toBe('Bearer t-1');
    expect(
      (await lastValueFrom(http.get<{ authorization: string }>(`${otherUpstream.url}/items`))).data.authorization,
    ).toBe('Bearer o-1');
    expect(
      (await lastValueFrom(http.get<{ authorization: string }>(`${upstream.url}/items`, { oauth: 'other' }))).data
        .authorization,
    ).toBe('Bearer o-1');
  });

  it('100 testing modules created and closed in a loop leave no interceptor behind on the axios default', async () => {
    for (let i = 0; i < 100; i++) {
      const moduleRef = await Test.createTestingModule({ imports: [HttpModule, oauthRoot()] }).compile();
      await moduleRef.init();
      expect(interceptorCount(axios).request).toBe(baseline.request + 1);
      await moduleRef.close();
    }
    expect(interceptorCount(axios)).toEqual(baseline);
    expect(axios.interceptors.request.handlers?.length).toBe(baseline.request);
  });
});

describe('two apps in one process sharing the axios default', () => {
  it('install one interceptor between them, each attaching its own tokens; closing one keeps the other’s', async () => {
    const bTokens = track(await startTokenServer('b'));
    const bUpstream = track(await startUpstream());
    const appA = await compile([HttpModule, oauthRoot()]);
    const appB = await compile([
      HttpModule,
      OAuthModule.forRoot({ logger: false, clients: { api: oauth2Client(bTokens, { attachTo: [bUpstream.url] }) } }),
    ]);
    const httpA = appA.get(HttpService);
    const httpB = appB.get(HttpService);
    expect(httpA.axiosRef).toBe(httpB.axiosRef);
    expect(interceptorCount(axios)).toEqual({ request: baseline.request + 1, response: baseline.response + 1 });

    expect(await authorizationVia(httpA)).toBe('Bearer t-1');
    const bCall = async () =>
      (await lastValueFrom(httpB.get<{ authorization: string }>(`${bUpstream.url}/items`))).data.authorization;
    expect(await bCall()).toBe('Bearer b-1');
    expect(tokens.count).toBe(1);
    expect(bTokens.count).toBe(1);

    await closeNow(appA);
    expect(interceptorCount(axios)).toEqual({ request: baseline.request + 1, response: baseline.response + 1 });
    expect(await bCall()).toBe('Bearer b-1');
    // App A's client is gone with app A: its upstream gets nothing now.
    expect(await authorizationVia(httpB)).toBeNull();

    await closeNow(appB);
    expect(interceptorCount(axios)).toEqual(baseline);
  });

  it('a URL already called is matched again when another app joins with a longer prefix for it, and when it leaves', async () => {
    const bTokens = track(await startTokenServer('b'));
    const appA = await compile([HttpModule, oauthRoot()]);
    const httpA = appA.get(HttpService);
    const v2Items = async () =>
      (await lastValueFrom(httpA.get<{ authorization: string }>(`${upstream.url}/v2/items`))).data.authorization;
    expect(await v2Items()).toBe('Bearer t-1');

    const appB = await compile([
      HttpModule,
      OAuthModule.forRoot({ logger: false, clients: clientsFor(bTokens, `${upstream.url}/v2`) }),
    ]);
    expect(await v2Items()).toBe('Bearer b-1');
    await closeNow(appB);
    expect(await v2Items()).toBe('Bearer t-1');
    expect([tokens.count, bTokens.count]).toEqual([1, 1]);
  });

  it('when both apps claim the same URL, exactly one token is attached and one fetched', async () => {
    const bTokens = track(await startTokenServer('b'));
    const appA = await compile([HttpModule, oauthRoot()]);
    await compile([HttpModule, OAuthModule.forRoot({ logger: false, clients: clientsFor(bTokens, upstream.url) })]);
    expect(await authorizationVia(appA.get(HttpService))).toBe('Bearer t-1');
    expect(tokens.count + bTokens.count).toBe(1);
  });
});
