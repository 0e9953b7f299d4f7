import 'reflect-metadata';
import { inspect } from 'node:util';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  OAuthConfigError,
  OAuthModule,
  readSnakeOrCamelToken,
  TokenRequestError,
  type OAuthClientOptions,
  type ProviderError,
  type RawToken,
  type TokenHttpRequest,
  type TokenHttpResponse,
  type TokenRequestContext,
  type TokenStrategy,
} from '../../lib/index.js';
import { MAX_LIFETIME_MS } from '../../lib/token-endpoint/token-expiry.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';

/** Lifetimes, extraParams, custom strategy failures and boot validation (redaction, redirects, crashes and shutdown have their own specs). */
const SECRET = 'hush: +%="\\ x';

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer({
    'POST /oauth/token': (_req, res) => json(res, 200, { access_token: 'AT-plain-token', expires_in: 60 }),
  });
});
afterAll(() => server.close());
let app: Booted | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  server.requests.length = 0;
});

const oauth2 = (extra: Partial<OAuthClientOptions> = {}) =>
  ({
    strategy: 'oauth2',
    tokenUrl: `${server.url}/oauth/token`,
    clientId: 'id',
    clientSecret: SECRET,
    ...extra,
  }) as OAuthClientOptions;

describe('a lifetime that cannot be represented is clamped to one year', () => {
  // As the provider writes it: JSON numbers too large for a double, and one as a string.
  it.each([
    ['Long.MAX_VALUE', '9223372036854775807'],
    ['1e308', '1e308'],
    ['a huge numeric string', '"9223372036854775807"'],
  ])('expires_in %s gives a token valid one year, with debug logs on', async (_case, expiresIn) => {
    server.route(
      'POST /oauth/token',
      (_req, res) =>
        void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`{"access_token":"AT-forever","expires_in":${expiresIn}}`),
    );
    app = await bootOAuth({ api: oauth2() });
    const token = await app.tokens.getToken('api');
    expect(token.expiresAt).toBe(app.clock.now() + MAX_LIFETIME_MS);
    expect(app.logger.lines.some((l) => l.level === 'debug' && l.message.includes('expires'))).toBe(true);
  });
});

describe('extraParams', () => {
  const form = () => new URLSearchParams(server.requests.at(-1)!.body);

  it('sends audience, resource and scope from extraParams when the dedicated options are absent', async () => {
    app = await bootOAuth({
      api: oauth2({ extraParams: { audience: 'https://api.example', resource: 'urn:r', scope: 'read', tenant: 't1' } }),
    });
    await app.tokens.getToken('api');
    expect(Object.fromEntries(form())).toEqual({
      grant_type: 'client_credentials',
      audience: 'https://api.example',
      resource: 'urn:r',
      scope: 'read',
      tenant: 't1',
    });
    expect(app.logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('the dedicated option wins over extraParams, with one warning at boot naming both', async () => {
    app = await bootOAuth({
      api: oauth2({
        audience: 'aud-option',
        resource: ['urn:a', 'urn:b'],
        scope: 'write',
        extraParams: { audience: 'aud-extra', resource: 'urn:x', scope: 'read' },
      }),
    });
    await app.tokens.getToken('api');
    expect(form().getAll('audience')).toEqual(['aud-option']);
    expect(form().getAll('resource')).toEqual(['urn:a', 'urn:b']);
    expect(form().getAll('scope')).toEqual(['write']);
    const warnings = app.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toEqual([
      'OAuth client "api": option "extraParams.audience" is not sent: option "audience" is set and wins.',
      'OAuth client "api": option "extraParams.resource" is not sent: option "resource" is set and wins.',
    ]);
  });

  it('never sends grant_type or credentials from extraParams', async () => {
    const extraParams = { grant_type: 'password', client_id: 'other', client_secret: 'other-secret', keep: 'yes' };
    app = await bootOAuth({ api: oauth2({ authMethod: 'client_secret_post', extraParams }) });
    await app.tokens.getToken('api');
    expect(form().getAll('grant_type')).toEqual(['client_credentials']);
    expect(form().getAll('client_id')).toEqual(['id']);
    expect(form().getAll('client_secret')).toEqual([SECRET]);
    expect(form().get('keep')).toBe('yes');
    expect(app.logger.text()).not.toContain('other-secret');
  });
});

/** A custom strategy that fails where `failIn` says, with the secret in its own message. */
function failingStrategy(failIn: 'buildRequest' | 'readToken' | 'readError') {
  class ExplodingStrategy implements TokenStrategy {
    readonly tokenPath = '/oauth/token';
    buildRequest(ctx: TokenRequestContext): TokenHttpRequest {
      if (failIn === 'buildRequest') throw new RangeError(`cannot sign with ${ctx.clientSecret}`);
      return { method: 'POST', url: ctx.tokenUrl, headers: {}, body: '' };
    }
    readToken(response: TokenHttpResponse, ctx: TokenRequestContext): RawToken {
      if (failIn === 'readToken') throw new TypeError(`bad answer for ${ctx.clientSecret}`);
      return readSnakeOrCamelToken(response);
    }
    readError(_response: TokenHttpResponse, ctx: TokenRequestContext): ProviderError {
      if (failIn === 'readError') throw new SyntaxError(`unreadable, secret ${ctx.clientSecret}`);
      return {};
    }
  }
  return ExplodingStrategy;
}

describe('a custom strategy', () => {
  it.each([
    ['buildRequest', 'invalid_request', RangeError, 200],
    ['readToken', 'invalid_response', TypeError, 200],
    ['readError', 'invalid_response', SyntaxError, 500],
  ] as const)(
    'that throws in %s fails with TokenRequestError %s, its exception kept as cause',
    async (failIn, code, causeType, status) => {
      server.route('POST /oauth/token', (_req, res) =>
        json(res, status, status === 200 ? { access_token: 'AT-x', expires_in: 60 } : {}),
      );
      app = await bootOAuth(
        { api: { strategy: failingStrategy(failIn), baseUrl: server.url, clientId: 'id', clientSecret: SECRET } },
        { retry: { maxAttempts: 1 } },
      );
      const error = (await app.tokens.getToken('api').catch((e: unknown) => e)) as TokenRequestError;
      expect(error).toBeInstanceOf(TokenRequestError);
      expect(error.code).toBe(code);
      expect(error.cause).toBeInstanceOf(causeType);
      expect(error.message).toContain('ExplodingStrategy strategy');
      expect(error.message).not.toContain('class ');
      for (const text of [
        error.message,
        inspect(error, { depth: 10, showHidden: true }),
        JSON.stringify(error),
        String((error.cause as Error).stack),
      ]) {
        expect(text).not.toContain(SECRET);
      }
    },
  );

  it('is named by its class name in boot warnings, never by its source text', async () => {
    class QuietStrategy implements TokenStrategy {
      readonly tokenPath = '/oauth/token';
      readonly sendsScope = false;
      buildRequest(ctx: TokenRequestContext): TokenHttpRequest {
        return { method: 'POST', url: ctx.tokenUrl, headers: {}, body: '' };
      }
      readToken = readSnakeOrCamelToken;
      readError = () => ({});
    }
    app = await bootOAuth({
      api: { strategy: QuietStrategy, baseUrl: server.url, clientId: 'id', clientSecret: SECRET, scope: 'a' },
    });
    expect(app.logger.text()).toContain('the QuietStrategy token endpoint takes no scope');
    expect(app.logger.text()).not.toContain('tokenPath');
  });
});

describe('boot validation reports every problem at once', () => {
  it('lists each invalid option of each client, the first in client/field, never a value', async () => {
    const logger = new CaptureLogger();
    const clients = {
      first: { strategy: 'oauth2', clientId: '', clientSecret: SECRET, tokenUrl: 'nope' },
      second: {
        strategy: 'firstvision',
        clientId: 'id',
        clientSecret: SECRET,
        baseUrl: 'https://fv.example',
        timeoutMs: -1,
      },
      third: { strategy: 'oauth3', clientId: 'id', clientSecret: SECRET, baseUrl: 'https://x.example' },
    } as unknown as Record<string, OAuthClientOptions>;
    const error = (await Test.createTestingModule({
      imports: [OAuthModule.forRoot({ logger, retry: { maxAttempts: 0 }, clients })],
    })
      .compile()
      .catch((e: unknown) => e)) as OAuthConfigError;

    expect(error).toBeInstanceOf(OAuthConfigError);
    expect(error.issues.map(({ client, field }) => `${client ?? '-'}.${field}`)).toEqual([
      '-.retry.maxAttempts',
      'first.clientId',
      'first.tokenUrl',
      'second.timeoutMs',
      'second.scope',
      'third.strategy',
    ]);
    expect([error.client, error.field]).toEqual([undefined, 'retry.maxAttempts']);
    for (const issue of error.issues) {
      expect(issue.problem.length).toBeGreaterThan(0);
      expect(error.message).toContain(`option "${issue.field}"`);
    }
    expect(error.message).toMatch(/^OAuthModule options have 6 problems:/);
    for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: 10 }), logger.text()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('nope');
    }
  });

  it('one problem reads as a single sentence', async () => {
    const error = (await Test.createTestingModule({
      imports: [OAuthModule.forRoot({ logger: false, clients: { only: oauth2({ clientId: '' }) } })],
    })
      .compile()
      .catch((e: unknown) => e)) as OAuthConfigError;
    expect(error.message).toBe('OAuth client "only": option "clientId" must be a non-empty string.');
    expect(error.issues).toEqual([{ client: 'only', field: 'clientId', problem: 'must be a non-empty string' }]);
  });
});
