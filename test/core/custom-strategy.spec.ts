import 'reflect-metadata';
import { Global, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  OAuthModule,
  TokenService,
  readSnakeOrCamelToken,
  type ProviderError,
  type RawToken,
  type TokenHttpRequest,
  type TokenHttpResponse,
  type TokenRequestContext,
  type TokenStrategy,
} from '../../lib/index.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

/** Something a real strategy might inject: a signer, a vault, a config service. */
@Injectable()
class RequestSigner {
  sign(body: string) {
    return `sig(${body.length})`;
  }
}

@Global()
@Module({ providers: [RequestSigner], exports: [RequestSigner] })
class SigningModule {}

@Injectable()
class SignedJsonStrategy implements TokenStrategy {
  readonly tokenPath = '/auth/token';
  constructor(private readonly signer: RequestSigner) {}
  buildRequest(ctx: TokenRequestContext): TokenHttpRequest {
    const body = JSON.stringify({ key: ctx.clientId, secret: ctx.clientSecret });
    return {
      method: 'POST',
      url: ctx.tokenUrl,
      headers: { 'content-type': 'application/json', 'x-signature': this.signer.sign(body) },
      body,
    };
  }
  readToken(response: TokenHttpResponse): RawToken {
    return readSnakeOrCamelToken(response);
  }
  readError(response: TokenHttpResponse): ProviderError {
    return { providerCode: String((response.json as { reason?: string })?.reason) };
  }
}

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer({
    'POST /auth/token': (_req, res) => json(res, 200, { accessToken: 'custom-token', expiresIn: 60 }),
  });
});
afterAll(() => server.close());
let moduleRef: TestingModule | undefined;
afterEach(() => moduleRef?.close());

describe('a user strategy class', () => {
  const client = () => ({ strategy: SignedJsonStrategy, baseUrl: server.url, clientId: 'me', clientSecret: 'pw' });

  it('is created through DI with its own dependencies (forRoot)', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [SigningModule, OAuthModule.forRoot({ logger: false, clients: { custom: client() } })],
    }).compile();
    const token = await moduleRef.get(TokenService).getToken('custom');
    expect(token).toMatchObject({ accessToken: 'custom-token', tokenType: 'Bearer' });
    const request = server.requests.at(-1)!;
    expect(request.headers['x-signature']).toBe('sig(26)');
    expect(JSON.parse(request.body)).toEqual({ key: 'me', secret: 'pw' });
  });

  it('uses an instance the app already provides (forRootAsync)', async () => {
    const signer = new RequestSigner();
    signer.sign = () => 'from-app';
    moduleRef = await Test.createTestingModule({
      imports: [OAuthModule.forRootAsync({ useFactory: () => ({ logger: false, clients: { custom: client() } }) })],
      providers: [{ provide: SignedJsonStrategy, useValue: new SignedJsonStrategy(signer) }],
    }).compile();
    await moduleRef.get(TokenService).getToken('custom');
    expect(server.requests.at(-1)!.headers['x-signature']).toBe('from-app');
  });

  it('whose dependencies are nowhere fails at boot naming the client and "strategy"', async () => {
    const error = await Test.createTestingModule({
      imports: [OAuthModule.forRoot({ logger: false, clients: { custom: client() } })],
    })
      .compile()
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'OAuthConfigError', client: 'custom', field: 'strategy' });
  });
});
