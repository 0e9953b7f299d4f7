import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from '@jest/globals';
import { OAuthConfigError, OAuthModule, type OAuthModuleOptions } from '../../lib/index.js';
import { bootError as bootFailure } from '../support/boot-error.js';
import { CaptureLogger } from '../support/capture-logger.js';

const SECRET = 'sEcReT-v4lue-93xq';
const good = {
  strategy: 'oauth2',
  tokenUrl: 'https://auth.example.com/oauth/token',
  clientId: 'id',
  clientSecret: SECRET,
} as const;

async function bootError(
  client: Record<string, unknown>,
  extra: Partial<OAuthModuleOptions> = {},
): Promise<OAuthConfigError> {
  const configError = await bootFailure(client, extra);
  expect(configError.message).not.toContain(SECRET);
  expect(JSON.stringify(configError)).not.toContain(SECRET);
  return configError;
}

describe('options are validated at boot', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a missing clientId', { ...good, clientId: undefined }, 'clientId'],
    ['an empty clientId', { ...good, clientId: '' }, 'clientId'],
    ['an empty secret', { ...good, clientSecret: '' }, 'clientSecret'],
    ['a non-string secret', { ...good, clientSecret: 42 }, 'clientSecret'],
    ['an unparsable tokenUrl', { ...good, tokenUrl: `not a url ${SECRET}` }, 'tokenUrl'],
    ['an unparsable baseUrl', { ...good, tokenUrl: undefined, baseUrl: 'http//nope' }, 'baseUrl'],
    ['a non-http URL', { ...good, tokenUrl: 'ftp://auth.example.com/token' }, 'tokenUrl'],
    ['an unknown strategy name', { ...good, strategy: 'oauth3' }, 'strategy'],
    ['no tokenUrl and no baseUrl', { ...good, tokenUrl: undefined }, 'baseUrl'],
    ['a bad attachTo entry', { ...good, attachTo: ['https://ok.example.com', '/relative'] }, 'attachTo'],
    ['a scope with an empty token', { ...good, scope: ['a', ''] }, 'scope'],
    ['an unknown authMethod', { ...good, authMethod: 'client_secret_jws' }, 'authMethod'],
    ['an unknown basicEncoding', { ...good, basicEncoding: 'latin1' }, 'basicEncoding'],
    ["basicEncoding 'raw' with ':' in the client id", { ...good, clientId: 'a:b', basicEncoding: 'raw' }, 'clientId'],
    ['extraParams with a non-string value', { ...good, extraParams: { a: 1 } }, 'extraParams'],
    ['a negative skew', { ...good, skewSeconds: -1 }, 'skewSeconds'],
    ['zero retry attempts', { ...good, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
  ])('%s fails naming the client and the field', async (_case, client, field) => {
    const error = await bootError(client);
    expect(error.client).toBe('billing');
    expect(error.field).toBe(field);
    expect(error.message).toContain('"billing"');
    expect(error.message).toContain(`"${field}"`);
  });

  it('module-wide defaults are validated too', async () => {
    const error = await bootError(good, { timeoutMs: 0 });
    expect(error.field).toBe('timeoutMs');
    expect(error.message).toContain('OAuthModule');
  });

  it('no clients at all is an error naming "clients"', async () => {
    const error = await Test.createTestingModule({ imports: [OAuthModule.forRoot({ clients: {} })] })
      .compile()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect((error as OAuthConfigError).field).toBe('clients');
  });

  it('good options boot, and the secret is never logged', async () => {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [OAuthModule.forRoot({ logger, clients: { billing: { ...good, scope: 'a b' } } })],
    }).compile();
    await moduleRef.init();
    expect(logger.text()).not.toContain(SECRET);
    await moduleRef.close();
  });
});
