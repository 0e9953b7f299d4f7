import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { OAuth2ClientOptions } from '../../lib/index.js';
import { bootOAuth } from '../support/boot.js';
import { closeAfterEach } from '../support/cleanup.js';
import { MTLS_TOKEN, startHttpsTokenServer } from '../support/https-token-server.js';
import { CLIENT_CN, tlsFixtures, type TlsFixtures } from '../support/tls-fixtures.js';
import { decodeJws, keyPairFor } from './jws-support.js';

/**
 * RFC 8705 client authentication over real HTTPS: the server demands a certificate signed by its
 * CA, the form carries `client_id` and nothing secret.
 */
const cleanup = closeAfterEach();
let pki: TlsFixtures;
beforeAll(async () => {
  pki = await tlsFixtures();
});

const client = (tokenUrl: string, options: Partial<OAuth2ClientOptions>) =>
  ({ strategy: 'oauth2', tokenUrl, clientId: 'mtls-client', ...options }) as OAuth2ClientOptions;

describe('tls_client_auth / self_signed_tls_client_auth', () => {
  it.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)(
    '%s: the certificate authenticates; client_id in the form, no secret, no Basic header',
    async (authMethod) => {
      const server = cleanup.track(await startHttpsTokenServer());
      const tls = { cert: pki.clientCert, key: pki.clientKey, ca: pki.ca };
      const app = cleanup.track(await bootOAuth({ api: client(`${server.url}/oauth/token`, { authMethod, tls }) }));

      await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: MTLS_TOKEN.access_token });
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request!.clientCN).toBe(CLIENT_CN);
      expect(request!.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(new URLSearchParams(request!.body))).toEqual({
        grant_type: 'client_credentials',
        client_id: 'mtls-client',
      });
    },
  );

  it('the module-wide tls serves a client that sets none', async () => {
    const server = cleanup.track(await startHttpsTokenServer());
    const app = cleanup.track(
      await bootOAuth(
        { api: client(`${server.url}/oauth/token`, { authMethod: 'tls_client_auth' }) },
        { tls: { cert: pki.clientCert, key: pki.clientKey, ca: pki.ca } },
      ),
    );
    await app.tokens.getToken('api');
    expect(server.requests[0]!.clientCN).toBe(CLIENT_CN);
  });

  it('private_key_jwt over mutual TLS (a certificate-bound client) sends both', async () => {
    const server = cleanup.track(await startHttpsTokenServer());
    const { privateKey } = keyPairFor('ES256');
    const tls = { cert: pki.clientCert, key: pki.clientKey, ca: pki.ca };
    const app = cleanup.track(
      await bootOAuth({
        api: client(`${server.url}/oauth/token`, { authMethod: 'private_key_jwt', privateKey, tls }),
      }),
    );
    await app.tokens.getToken('api');
    const form = new URLSearchParams(server.requests[0]!.body);
    expect(server.requests[0]!.clientCN).toBe(CLIENT_CN);
    expect(decodeJws(form.get('client_assertion')!).claims.aud).toBe(`${server.url}/oauth/token`);
  });

  it('client_secret_post over mutual TLS keeps its secret in the form (mTLS-bound secrets)', async () => {
    const server = cleanup.track(await startHttpsTokenServer());
    const tls = { cert: pki.clientCert, key: pki.clientKey, ca: pki.ca };
    const app = cleanup.track(
      await bootOAuth({
        api: client(`${server.url}/oauth/token`, {
          authMethod: 'client_secret_post',
          clientSecret: 'bound-secret',
          tls,
        }),
      }),
    );
    await app.tokens.getToken('api');
    expect(new URLSearchParams(server.requests[0]!.body).get('client_secret')).toBe('bound-secret');
    expect(server.requests[0]!.clientCN).toBe(CLIENT_CN);
  });
});
