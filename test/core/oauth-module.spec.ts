import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { OAuthModule, TokenService, type OAuthModuleOptions, type OAuthOptionsFactory } from '../../lib/index.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

let server: RecordingServer;
let issued = 0;
beforeAll(async () => {
  server = await startRecordingServer({
    'POST /oauth/token': (_req, res) =>
      json(res, 200, { access_token: `t${++issued}`, token_type: 'Bearer', expires_in: 3600 }),
  });
});
afterAll(() => server.close());

const opened: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close()));
});

const options = (): OAuthModuleOptions => ({
  logger: false,
  clients: { api: { strategy: 'oauth2', baseUrl: server.url, clientId: 'id', clientSecret: 'secret' } },
});

async function compile(imports: unknown[], providers: unknown[] = []): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    providers: providers as never[],
  }).compile();
  opened.push(moduleRef);
  return moduleRef;
}

@Injectable()
class OptionsFactory implements OAuthOptionsFactory {
  createOAuthOptions() {
    return options();
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

/** A feature module that injects TokenService without importing OAuthModule itself. */
@Injectable()
class NeedsTokens {
  constructor(readonly tokens: TokenService) {}
}
@Module({ providers: [NeedsTokens] })
class FeatureModule {}

describe('OAuthModule', () => {
  it('forRoot provides a working TokenService', async () => {
    const moduleRef = await compile([OAuthModule.forRoot(options())]);
    await expect(moduleRef.get(TokenService).getToken('api')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('forRootAsync with useFactory, inject and imports', async () => {
    const moduleRef = await compile([
      OAuthModule.forRootAsync({
        imports: [OptionsModule],
        inject: [OptionsFactory],
        useFactory: async (factory: OptionsFactory) => factory.createOAuthOptions(),
      }),
    ]);
    await expect(moduleRef.get(TokenService).getToken('api')).resolves.toMatchObject({ expiresAt: expect.any(Number) });
  });

  it('forRootAsync with useClass calls createOAuthOptions()', async () => {
    const moduleRef = await compile([OAuthModule.forRootAsync({ useClass: OptionsFactory })]);
    await expect(moduleRef.get(TokenService).getToken('api')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('forRootAsync with useExisting reuses a provider from imports', async () => {
    const moduleRef = await compile([
      OAuthModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFactory }),
    ]);
    await expect(moduleRef.get(TokenService).getToken('api')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it.each([
    ['forRoot', () => OAuthModule.forRoot({ ...options(), isGlobal: true })],
    ['forRootAsync', () => OAuthModule.forRootAsync({ isGlobal: true, useFactory: options })],
  ])(
    '%s({ isGlobal: true }) makes TokenService injectable in modules that do not import it',
    async (_name, register) => {
      const moduleRef = await compile([register(), FeatureModule]);
      expect(moduleRef.get(NeedsTokens).tokens).toBeInstanceOf(TokenService);
    },
  );

  it('is not global unless asked', async () => {
    await expect(compile([OAuthModule.forRootAsync({ useFactory: options }), FeatureModule])).rejects.toThrow(
      /TokenService/,
    );
  });

  it('two registrations keep separate caches', async () => {
    const a = await compile([OAuthModule.forRoot(options())]);
    const b = await compile([OAuthModule.forRoot(options())]);
    const first = await a.get(TokenService).getToken('api');
    const second = await b.get(TokenService).getToken('api');
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await a.get(TokenService).getToken('api')).accessToken).toBe(first.accessToken);
  });
});
