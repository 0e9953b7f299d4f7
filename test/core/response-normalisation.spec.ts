import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TokenRequestError } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { fakeJwt, json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

let server: RecordingServer;
let respond: (res: ServerResponse) => void;
let app: Booted;
beforeAll(async () => {
  server = await startRecordingServer({ 'POST /oauth/token': (_req, res) => respond(res) });
});
afterAll(() => server.close());
beforeEach(async () => {
  app = await bootOAuth({ api: { strategy: 'oauth2', baseUrl: server.url, clientId: 'id', clientSecret: 'secret' } });
});
afterEach(() => app.close());

const token = (fields: Record<string, unknown>) => (res: ServerResponse) =>
  json(res, 200, { access_token: 'opaque', token_type: 'Bearer', ...fields });
const nowSeconds = () => Math.floor(app.clock.now() / 1000);

async function failure(): Promise<TokenRequestError> {
  const error = await app.tokens.getToken('api').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
}

describe('expires_in normalisation', () => {
  it.each<[string, () => unknown, () => number]>([
    ['a number of seconds', () => 3600, () => app.clock.now() + 3_600_000],
    ['a numeric string', () => ' 3600 ', () => app.clock.now() + 3_600_000],
    ['an absolute epoch in seconds', () => nowSeconds() + 7200, () => (nowSeconds() + 7200) * 1000],
    ['an absolute epoch in milliseconds', () => app.clock.now() + 7_200_000, () => app.clock.now() + 7_200_000],
    ['an absolute epoch in seconds as a string', () => String(nowSeconds() + 60), () => (nowSeconds() + 60) * 1000],
  ])('%s', async (_case, expiresIn, expected) => {
    respond = token({ expires_in: expiresIn() });
    expect((await app.tokens.getToken('api')).expiresAt).toBe(expected());
  });

  it('a JWT exp caps a longer expires_in', async () => {
    const exp = nowSeconds() + 600;
    respond = (res) => json(res, 200, { access_token: fakeJwt({ exp }), token_type: 'Bearer', expires_in: 3600 });
    expect((await app.tokens.getToken('api')).expiresAt).toBe(exp * 1000);
  });

  it('missing: the JWT exp is used', async () => {
    const exp = nowSeconds() + 900;
    respond = (res) => json(res, 200, { access_token: fakeJwt({ exp }), token_type: 'Bearer' });
    expect((await app.tokens.getToken('api')).expiresAt).toBe(exp * 1000);
    expect(app.logger.text()).not.toMatch(/no expires_in/);
  });

  it('missing and no JWT: defaultTtlSeconds (300) with a warning', async () => {
    respond = token({});
    expect((await app.tokens.getToken('api')).expiresAt).toBe(app.clock.now() + 300_000);
    expect(app.logger.lines).toContainEqual({ level: 'warn', message: expect.stringContaining('no expires_in') });
  });

  it('0: the token is used once and not cached', async () => {
    respond = token({ expires_in: 0 });
    await app.tokens.getToken('api');
    await app.tokens.getToken('api');
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    const before = server.requests.length;
    await app.tokens.getToken('api');
    expect(server.requests.length).toBe(before + 1);
  });

  it.each([
    ['negative', -5],
    ['NaN', 'soon'],
    ['a non-number', { seconds: 60 }],
    ['an absolute time already past', 1_750_392_000],
  ])('%s is invalid_response', async (_case, expiresIn) => {
    respond = token({ expires_in: expiresIn });
    const error = await failure();
    expect(error.code).toBe('invalid_response');
    expect(error.attempts).toBe(1);
  });

  it('keeps the provider token_type as sent', async () => {
    respond = token({ token_type: 'bearer', expires_in: 60 });
    expect((await app.tokens.getToken('api')).tokenType).toBe('bearer');
  });
});

describe('bodies that are not a token', () => {
  it('a 2xx without an access token is invalid_response', async () => {
    respond = (res) => json(res, 200, { token_type: 'Bearer', expires_in: 60 });
    expect((await failure()).code).toBe('invalid_response');
  });

  it('an empty access token is invalid_response', async () => {
    respond = token({ access_token: '', expires_in: 60 });
    expect((await failure()).code).toBe('invalid_response');
  });

  it('a 2xx carrying an RFC 6749 error is that error', async () => {
    respond = (res) => json(res, 200, { error: 'invalid_scope', error_description: 'scope x is unknown' });
    const error = await failure();
    expect(error).toMatchObject({ code: 'invalid_scope', status: 200, description: 'scope x is unknown' });
  });

  it('a 2xx carrying a non-RFC error is invalid_response with the provider code', async () => {
    respond = (res) => json(res, 200, { error: 'quota_exceeded' });
    expect(await failure()).toMatchObject({ code: 'invalid_response', providerCode: 'quota_exceeded' });
  });

  it('an HTML page served with status 200 is invalid_response with a snippet', async () => {
    respond = (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html><body><h1>Maintenance</h1></body></html>');
    const error = await failure();
    expect(error.code).toBe('invalid_response');
    expect(error.bodySnippet).toContain('Maintenance');
  });

  it('an HTML error page keeps the status code mapping and a snippet', async () => {
    respond = (res) =>
      res.writeHead(403, { 'content-type': 'text/html' }).end('<html><title>Forbidden by WAF</title></html>');
    const error = await failure();
    expect(error).toMatchObject({ code: 'invalid_client', status: 403 });
    expect(error.bodySnippet).toContain('Forbidden by WAF');
  });

  it('a body over 1 MiB is cut and reported, not buffered whole', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"access_token":"${'a'.repeat(3 * 1024 * 1024)}","expires_in":60}`);
    };
    const error = await failure();
    expect(error.code).toBe('invalid_response');
    expect(error.bodySnippet!.length).toBeLessThanOrEqual(201);
  });
});
