import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { TokenRequestError, type OAuth2ClientOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { machineClient, startOidcProvider, type OidcProviderServer } from '../support/oidc-provider.js';

const RESOURCE = 'https://api.example.test/';
let idp: OidcProviderServer;
let issuer: string;
let app: Booted | undefined;

/** A real authorization server (node-oidc-provider) with client credentials and resource indicators. */
beforeAll(async () => {
  idp = await startOidcProvider({
    clients: [
      machineClient({
        client_id: 'basic-client',
        client_secret: 'basic secret:+%',
        token_endpoint_auth_method: 'client_secret_basic',
      }),
      machineClient({
        client_id: 'post-client',
        client_secret: 'post-secret',
        token_endpoint_auth_method: 'client_secret_post',
      }),
    ],
    configuration: {
      scopes: ['api:read'],
      features: {
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined as unknown as string,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== RESOURCE) throw new Error('unknown resource');
            return {
              scope: 'api:read',
              audience: RESOURCE,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
    },
  });
  issuer = idp.issuer;
});
afterAll(() => idp.close());
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const client = (options: Partial<OAuth2ClientOptions>): OAuth2ClientOptions => ({
  strategy: 'oauth2',
  tokenUrl: `${issuer}/token`,
  clientId: 'basic-client',
  clientSecret: 'basic secret:+%',
  ...options,
});

describe('interop with a real oidc-provider server', () => {
  it('client_secret_basic (id and secret form-encoded per RFC 6749) gets an opaque token', async () => {
    app = await bootOAuth({ idp: client({}) }, { clock: undefined });
    const token = await app.tokens.getToken('idp');
    expect(token.tokenType).toBe('Bearer');
    expect(token.accessToken.length).toBeGreaterThan(20);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
  });

  it('client_secret_post gets a token', async () => {
    app = await bootOAuth(
      { idp: client({ authMethod: 'client_secret_post', clientId: 'post-client', clientSecret: 'post-secret' }) },
      { clock: undefined },
    );
    await expect(app.tokens.getToken('idp')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('with a resource indicator gets a JWT whose exp bounds expiresAt', async () => {
    app = await bootOAuth({ idp: client({ resource: RESOURCE, scope: 'api:read' }) }, { clock: undefined });
    const token = await app.tokens.getToken('idp');
    const claims = JSON.parse(Buffer.from(token.accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims.aud).toBe(RESOURCE);
    expect(claims.scope).toBe('api:read');
    expect(token.expiresAt).toBeLessThanOrEqual(claims.exp * 1000);
    expect(token.scope).toBe('api:read');
  });

  it('with resource and client_secret_post', async () => {
    app = await bootOAuth(
      {
        idp: client({
          resource: RESOURCE,
          authMethod: 'client_secret_post',
          clientId: 'post-client',
          clientSecret: 'post-secret',
        }),
      },
      { clock: undefined },
    );
    const token = await app.tokens.getToken('idp');
    expect(token.accessToken.split('.')).toHaveLength(3);
  });

  it('a bad secret is TokenRequestError invalid_client, not retried', async () => {
    app = await bootOAuth({ idp: client({ clientSecret: 'wrong-secret-value' }) }, { clock: undefined });
    const error = await app.tokens.getToken('idp').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, attempts: 1 });
    expect(JSON.stringify(error)).not.toContain('wrong-secret-value');
  });
});
