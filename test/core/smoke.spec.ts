import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { afterEach, expect, it } from '@jest/globals';
import { OAuthModule, TokenService } from '../../lib/index.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

let server: RecordingServer;
afterEach(() => server?.close());

it('gets a token from a plain RFC 6749 endpoint', async () => {
  server = await startRecordingServer({
    'POST /oauth/token': (_req, res) => json(res, 200, { access_token: 'abc', token_type: 'bearer', expires_in: 3600 }),
  });
  const moduleRef = await Test.createTestingModule({
    imports: [OAuthModule.forRoot({ logger: false, clients: { api: { strategy: 'oauth2', baseUrl: server.url, clientId: 'id', clientSecret: 's' } } })],
  }).compile();
  const token = await moduleRef.get(TokenService).getToken('api');
  expect(token.accessToken).toBe('abc');
  expect(server.requests[0]!.body).toBe('grant_type=client_credentials');
  await moduleRef.close();
});
