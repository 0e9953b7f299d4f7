import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { OAuthModule, type OAuth2ClientOptions } from '../../lib/index.js';
import { bootOAuth, flushMicrotasks, type Booted } from '../support/boot.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { fakeJwt, json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

const SECRET = 'Zq9-SECRET+xx/y=';
const TOKEN = 'AT-9f8e7d6c5b4a-TOKEN';
const JWT = fakeJwt({ sub: 'svc', exp: 1 });
const basic = Buffer.from(`id:${SECRET}`).toString('base64');
const formEncodedSecret = encodeURIComponent(SECRET);

/** Every representation of a credential that must never come out of the library. */
const FORBIDDEN = [SECRET, formEncodedSecret, basic, TOKEN, JWT];

let server: RecordingServer;
let respond: (res: ServerResponse) => void;
beforeAll(async () => {
  server = await startRecordingServer({ 'POST /oauth/token': (_req, res) => respond(res) });
});
afterAll(() => server.close());
let app: Booted | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function expectClean(text: string) {
  for (const forbidden of FORBIDDEN) expect(text).not.toContain(forbidden);
}
function expectCleanError(error: unknown) {
  expect(error).toBeInstanceOf(Error);
  const e = error as Error;
  expectClean(e.message);
  expectClean(String(e.stack));
  expectClean(JSON.stringify(e));
  expectClean(inspect(e, { depth: 10, showHidden: true }));
}

const client = (options: Partial<OAuth2ClientOptions> = {}): OAuth2ClientOptions => ({
  strategy: 'oauth2',
  baseUrl: server.url,
  clientId: 'id',
  clientSecret: SECRET,
  ...options,
});

const echo = `the secret you sent was ${SECRET} (${formEncodedSecret}), header Basic ${basic}, jwt ${JWT}`;
/** For bodies that also carry the token they echo. */
const echoWithToken = `${echo}, token ${TOKEN}`;

describe('no secret or token in any error, stack, JSON or log line', () => {
  it.each<[string, (res: ServerResponse) => void]>([
    [
      '401 echoing credentials in error_description',
      (res) => json(res, 401, { error: 'invalid_client', error_description: echo }),
    ],
    [
      'HTML error page echoing credentials',
      (res) => res.writeHead(500, { 'content-type': 'text/html' }).end(`<html>${echo}</html>`),
    ],
    [
      '2xx with an error body and a token',
      (res) =>
        json(res, 200, {
          error: 'server_error',
          error_description: echoWithToken,
          access_token: TOKEN,
          expires_in: 'never',
        }),
    ],
    [
      '2xx token with a bad expires_in',
      (res) => json(res, 200, { access_token: TOKEN, expires_in: -1, note: echoWithToken }),
    ],
    ['2xx JWT already expired', (res) => json(res, 200, { access_token: JWT, expires_in: 60 })],
    [
      '2xx non-JSON body echoing credentials',
      (res) => res.writeHead(200).end(`access_token=${TOKEN}&secret=${SECRET}`),
    ],
    [
      '429 with a long Retry-After and an echo',
      (res) =>
        json(
          res,
          429,
          { error: 'slow_down', error_description: echoWithToken, accessToken: TOKEN },
          { 'retry-after': '60' },
        ),
    ],
    ['provider-specific non-RFC error echoing', (res) => json(res, 403, { message: echo, code: echo })],
  ])('%s', async (_case, handler) => {
    respond = handler;
    app = await bootOAuth({ api: client() });
    app.logger.lines.length = 0;
    const error = await app.tokens.getToken('api').catch((e: unknown) => e);
    expectCleanError(error);
    // and again during a cooldown, when one was started
    expectCleanError(await app.tokens.getToken('api').catch((e: unknown) => e));
    await flushMicrotasks();
    expectClean(app.logger.text());
  });

  it('network errors and timeouts', async () => {
    const closed = await startRecordingServer();
    await closed.close();
    app = await bootOAuth({ api: client({ baseUrl: closed.url }) }, { retry: { maxAttempts: 2 } });
    expectCleanError(await app.tokens.getToken('api').catch((e: unknown) => e));
    expectClean(app.logger.text());
  });

  it('successful fetches, refreshes and debug logs show fingerprints only', async () => {
    respond = (res) => json(res, 200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 100 });
    app = await bootOAuth({ api: client() });
    await app.tokens.getToken('api');
    app.clock.advance(80_000);
    await app.tokens.getToken('api');
    await flushMicrotasks();
    await app.tokens.setCredentials('api', { clientSecret: `${SECRET}2` });
    expect(app.logger.lines.some((l) => l.level === 'debug')).toBe(true);
    expectClean(app.logger.text());
  });

  it.each<[string, Partial<OAuth2ClientOptions>]>([
    ['a bad URL', { baseUrl: `not a url ${SECRET}` }],
    ['a bad clientId', { clientId: '' }],
    ['a bad secret type', { clientSecret: [SECRET] as unknown as string }],
    ['a raw Basic with a colon', { clientId: 'a:b', basicEncoding: 'raw' }],
  ])('boot errors: %s', async (_case, options) => {
    const logger = new CaptureLogger();
    const error = await Test.createTestingModule({
      imports: [OAuthModule.forRoot({ logger, clients: { api: client(options) } })],
    })
      .compile()
      .catch((e: unknown) => e);
    expectCleanError(error);
    expectClean(logger.text());
  });
});
