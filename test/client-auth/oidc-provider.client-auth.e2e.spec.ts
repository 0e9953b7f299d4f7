import { generateKeyPairSync, X509Certificate, type JsonWebKey } from 'node:crypto';
import { HttpService } from '@nestjs/axios';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { generate } from 'selfsigned';
import { TokenRequestError, type OAuth2ClientOptions } from '../../lib/index.js';
import { bootHttp, startUpstream } from '../http/http-support.js';
import { KEY_ALGS, keyPairFor, pkcs8Pem, type KeyAlg } from './jws-support.js';
import { closeAfterEach } from '../support/cleanup.js';
import { MTLS_FEATURE, machineClient, startOidcProvider, type OidcProviderServer } from '../support/oidc-provider.js';
import { CLIENT_CN, tlsFixtures } from '../support/tls-fixtures.js';

/**
 * Issue 14 against a real authorization server: node-oidc-provider registers one client per
 * authentication method (and per signing algorithm), the module gets a token each way, and
 * HttpService attaches it to a call to a real upstream. The provider's own token store confirms
 * that the token the upstream saw is one it issued to that client.
 */
const cleanup = closeAfterEach();
const HS_SECRET = 'a-client-secret-of-more-than-32-bytes-for-HS256';

interface JwtClient {
  alg: KeyAlg;
  clientId: string;
  publicJwk: JsonWebKey;
  /** The library options that carry the key, in a different form per algorithm. */
  keyOptions: Pick<OAuth2ClientOptions, 'privateKey' | 'keyId' | 'algorithm'>;
}

function jwtClient(alg: KeyAlg): JwtClient {
  const { privateKey, publicKey } = keyPairFor(alg);
  const kid = `key-${alg.toLowerCase()}`;
  const keyOptions: JwtClient['keyOptions'] = {
    // RS256: a PEM, no kid (the provider picks its only key by alg); the algorithm follows the key.
    RS256: { privateKey: pkcs8Pem(privateKey) },
    // PS256: a KeyObject, on request.
    PS256: { privateKey, keyId: kid, algorithm: 'PS256' as const },
    // ES256: a private JWK whose own kid goes into the header.
    ES256: { privateKey: { ...privateKey.export({ format: 'jwk' }), kid } },
    ES384: { privateKey: pkcs8Pem(privateKey), keyId: kid },
    EdDSA: { privateKey, keyId: kid },
  }[alg];
  return {
    alg,
    clientId: `jwt-${alg.toLowerCase()}`,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' },
    keyOptions,
  };
}

let jwtClients: Record<KeyAlg, JwtClient>;
let idp: OidcProviderServer;
let mtlsIdp: OidcProviderServer;
/** The self-signed certificate (and its key) registered for `self-signed-client`, as RFC 8705 §2.2 has it. */
let selfSigned: { cert: string; key: string };

/** A client certificate of its own, signed by nobody: the subject is the test's client CN. */
async function selfSignedCertificate() {
  const pems = await generate([{ name: 'commonName', value: CLIENT_CN }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
  });
  return { cert: pems.cert, key: pems.private };
}

/** The client's JWK Set entry for a certificate: its public key with the certificate in `x5c`. */
function certificateJwk(pem: string) {
  const certificate = new X509Certificate(pem);
  return { ...certificate.publicKey.export({ format: 'jwk' }), x5c: [certificate.raw.toString('base64')] };
}

interface SeenAssertion {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}
/** Each client assertion the provider verified (signature, iss, aud, exp), as it decoded it. */
const seen: SeenAssertion[] = [];
const lastAssertion = (clientId: string) => seen.filter((a) => a.claims.iss === clientId).at(-1);

beforeAll(async () => {
  jwtClients = Object.fromEntries(KEY_ALGS.map((alg) => [alg, jwtClient(alg)])) as Record<KeyAlg, JwtClient>;
  idp = await startOidcProvider({
    clients: [
      ...KEY_ALGS.map((alg) =>
        machineClient({
          client_id: jwtClients[alg].clientId,
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: alg,
          jwks: { keys: [jwtClients[alg].publicJwk as never] },
        }),
      ),
      machineClient({
        client_id: 'hs-client',
        client_secret: HS_SECRET,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
      }),
      machineClient({
        client_id: 'basic-client',
        client_secret: 'basic-secret',
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    ],
    configuration: {
      enabledJWA: { clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] },
      // The module runs on the real clock here, as the provider does; no tolerance hides a skew.
      clockTolerance: 0,
      // The provider's hook after its own checks: a copy (in this realm) of what it verified.
      assertJwtClientAuthClaimsAndHeader: async (_ctx, claims, header) => {
        seen.push(JSON.parse(JSON.stringify({ header, claims })) as SeenAssertion);
      },
    },
  });
  const { ca, serverCert, serverKey } = await tlsFixtures();
  selfSigned = await selfSignedCertificate();
  mtlsIdp = await startOidcProvider({
    tls: { cert: serverCert, key: serverKey, ca },
    clients: [
      machineClient({
        client_id: 'mtls-client',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: `CN=${CLIENT_CN}`,
      }),
      machineClient({
        client_id: 'self-signed-client',
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [certificateJwk(selfSigned.cert) as never] },
      }),
    ],
    configuration: {
      clientAuthMethods: ['tls_client_auth', 'self_signed_tls_client_auth'],
      // The provider matches the presented certificate's SHA-256 thumbprint with the client's `x5c`.
      features: { mTLS: { ...MTLS_FEATURE, selfSignedTlsClientAuth: true } },
    },
  });
});
afterAll(async () => {
  await idp?.close();
  await mtlsIdp?.close();
});

/** Boots the module with one client, `idp`, on the real clock (the provider is a real server, on real time). */
async function bootIdp(options: OAuth2ClientOptions) {
  return cleanup.track(await bootHttp({ idp: options }, { oauth: { clock: undefined } }));
}

/**
 * Boots the module with one client on the real clock, calls a real upstream through HttpService,
 * and returns the token the module holds and the Authorization header the upstream received.
 */
async function tokenThroughHttpService(options: OAuth2ClientOptions) {
  const upstream = cleanup.track(await startUpstream());
  const app = await bootIdp({ ...options, attachTo: [upstream.url] });
  const http = app.moduleRef.get(HttpService);
  const response = await firstValueFrom(http.get(`${upstream.url}/items`));
  expect(response.status).toBe(200);
  const token = await app.tokens.getToken('idp');
  return { token, authorization: upstream.authorizations()[0] };
}

/** The module's options for a client of `mtlsIdp` presenting `certificate` (and trusting the test CA). */
async function mtlsOptions(
  authMethod: 'tls_client_auth' | 'self_signed_tls_client_auth',
  clientId: string,
  certificate: { cert: string; key: string },
): Promise<OAuth2ClientOptions> {
  const { ca } = await tlsFixtures();
  return { strategy: 'oauth2', authMethod, tokenUrl: mtlsIdp.tokenUrl, clientId, tls: { ...certificate, ca } };
}

/** The provider's own record of an access token (undefined for one it did not issue). */
async function issuedBy(server: OidcProviderServer, accessToken: string) {
  return server.provider.ClientCredentials.find(accessToken);
}

describe('private_key_jwt against oidc-provider', () => {
  it.each(KEY_ALGS)('%s: the provider accepts the assertion; HttpService attaches its token', async (alg) => {
    const client = jwtClients[alg];
    const { token, authorization } = await tokenThroughHttpService({
      strategy: 'oauth2',
      authMethod: 'private_key_jwt',
      tokenUrl: idp.tokenUrl,
      clientId: client.clientId,
      ...client.keyOptions,
    });
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(idp, token.accessToken)).toMatchObject({ clientId: client.clientId });
    const assertion = lastAssertion(client.clientId)!;
    // No kid without keyId (or a JWK's own kid); `typ` is not part of the contract.
    expect({ alg: assertion.header.alg, kid: assertion.header.kid }).toEqual({
      alg,
      kid: alg === 'RS256' ? undefined : client.publicJwk.kid,
    });
    expect(assertion.claims).toMatchObject({ iss: client.clientId, sub: client.clientId, aud: idp.tokenUrl });
    expect((assertion.claims.exp as number) - (assertion.claims.iat as number)).toBe(60);
  });

  it('a key the client did not register is TokenRequestError invalid_client, and no call goes out', async () => {
    const upstream = cleanup.track(await startUpstream());
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const app = await bootIdp({
      strategy: 'oauth2',
      authMethod: 'private_key_jwt',
      tokenUrl: idp.tokenUrl,
      clientId: jwtClients.ES256.clientId,
      privateKey: stranger,
      keyId: 'key-es256',
      attachTo: [upstream.url],
    });
    const error = await app.tokens.getToken('idp').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
    const call = await firstValueFrom(app.moduleRef.get(HttpService).get(`${upstream.url}/items`)).catch(
      (e: unknown) => e,
    );
    expect(call).toBeInstanceOf(TokenRequestError);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('client_secret_jwt against oidc-provider', () => {
  it('an HS256 assertion keyed by the secret gets a token HttpService attaches', async () => {
    const { token, authorization } = await tokenThroughHttpService({
      strategy: 'oauth2',
      authMethod: 'client_secret_jwt',
      tokenUrl: idp.tokenUrl,
      clientId: 'hs-client',
      clientSecret: HS_SECRET,
    });
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(idp, token.accessToken)).toMatchObject({ clientId: 'hs-client' });
    expect(lastAssertion('hs-client')).toMatchObject({ header: { alg: 'HS256' }, claims: { aud: idp.tokenUrl } });
  });

  it('the wrong secret is invalid_client', async () => {
    const app = await bootIdp({
      strategy: 'oauth2',
      authMethod: 'client_secret_jwt',
      tokenUrl: idp.tokenUrl,
      clientId: 'hs-client',
      clientSecret: `${HS_SECRET}-but-not-quite`,
    });
    await expect(app.tokens.getToken('idp')).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
  });
});

describe('tls_client_auth against oidc-provider over real HTTPS', () => {
  it('the client certificate signed by the trusted CA authenticates the client', async () => {
    const { clientCert, clientKey } = await tlsFixtures();
    const { token, authorization } = await tokenThroughHttpService(
      await mtlsOptions('tls_client_auth', 'mtls-client', { cert: clientCert, key: clientKey }),
    );
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(mtlsIdp, token.accessToken)).toMatchObject({ clientId: 'mtls-client' });
  });

  it('a certificate the CA did not sign is invalid_client', async () => {
    const app = await bootIdp(await mtlsOptions('tls_client_auth', 'mtls-client', await selfSignedCertificate()));
    await expect(app.tokens.getToken('idp')).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
  });
});

describe('self_signed_tls_client_auth against oidc-provider over real HTTPS', () => {
  it('the certificate the client registered authenticates it, though no CA signed it', async () => {
    const { token, authorization } = await tokenThroughHttpService(
      await mtlsOptions('self_signed_tls_client_auth', 'self-signed-client', selfSigned),
    );
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(mtlsIdp, token.accessToken)).toMatchObject({ clientId: 'self-signed-client' });
  });

  it('another self-signed certificate, with the same subject, is invalid_client', async () => {
    const stranger = await selfSignedCertificate();
    const app = await bootIdp(await mtlsOptions('self_signed_tls_client_auth', 'self-signed-client', stranger));
    await expect(app.tokens.getToken('idp')).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
  });
});

describe('discovery against oidc-provider (configured with issuer only)', () => {
  it('finds the token endpoint through OpenID discovery (no RFC 8414 document there) with a secret', async () => {
    const { token, authorization } = await tokenThroughHttpService({
      strategy: 'oauth2',
      issuer: idp.issuer,
      clientId: 'basic-client',
      clientSecret: 'basic-secret',
    });
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(idp, token.accessToken)).toMatchObject({ clientId: 'basic-client' });
  });

  it('private_key_jwt with an issuer: the assertion is for the discovered issuer, which the provider accepts', async () => {
    const client = jwtClients.ES384;
    const { token, authorization } = await tokenThroughHttpService({
      strategy: 'oauth2',
      issuer: idp.issuer,
      authMethod: 'private_key_jwt',
      clientId: client.clientId,
      ...client.keyOptions,
    });
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(idp, token.accessToken)).toMatchObject({ clientId: client.clientId });
    expect(lastAssertion(client.clientId)!.claims.aud).toBe(idp.issuer);
  });

  it('tls_client_auth with an https issuer: metadata and token request both over mutual TLS', async () => {
    const { ca, clientCert, clientKey } = await tlsFixtures();
    const { token, authorization } = await tokenThroughHttpService({
      strategy: 'oauth2',
      issuer: mtlsIdp.issuer,
      authMethod: 'tls_client_auth',
      clientId: 'mtls-client',
      tls: { cert: clientCert, key: clientKey, ca },
    });
    expect(authorization).toBe(`Bearer ${token.accessToken}`);
    expect(await issuedBy(mtlsIdp, token.accessToken)).toMatchObject({ clientId: 'mtls-client' });
  });
});
