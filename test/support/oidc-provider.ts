import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { jest } from '@jest/globals';
import Provider, {
  type Adapter,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';

/** A real authorization server (node-oidc-provider) on 127.0.0.1:0. */
export interface OidcProviderServer {
  /** `http(s)://127.0.0.1:<port>`; the token endpoint is `<issuer>/token`. */
  issuer: string;
  tokenUrl: string;
  provider: Provider;
  close(): Promise<void>;
}

export interface OidcProviderOptions {
  clients: ClientMetadata[];
  /** Serve HTTPS, asking for (not demanding) a client certificate; `ca` decides which are authorized. */
  tls?: { cert: string; key: string; ca: string };
  /** Merged over the defaults; `features` key by key. */
  configuration?: Configuration;
}

// One signing key per process: RSA generation costs tens of milliseconds.
let signingKey: Record<string, unknown> | undefined;

/** The PEM of the certificate the TLS peer presented, for `features.mTLS.getCertificate`. */
function peerCertificate(ctx: KoaContextWithOIDC): string | undefined {
  const raw = (ctx.req.socket as Partial<TLSSocket>).getPeerCertificate?.()?.raw;
  return raw === undefined ? undefined : new X509Certificate(raw).toString();
}

/**
 * mTLS as RFC 8705 §2.1 has it: the certificate as the TLS layer verified it (against `tls.ca`),
 * the subject DN compared with `tls_client_auth_subject_dn` (one RDN per line in Node's form).
 */
export const MTLS_FEATURE = {
  enabled: true,
  tlsClientAuth: true,
  getCertificate: peerCertificate,
  certificateAuthorized: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).authorized === true,
  certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) => {
    const pem = peerCertificate(ctx);
    if (pem === undefined || property !== 'tls_client_auth_subject_dn') return false;
    return new X509Certificate(pem).subject.split('\n').join(',') === expected;
  },
};

export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcProviderServer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const listener = (req: IncomingMessage, res: ServerResponse) => handler(req, res);
  const server =
    options.tls === undefined
      ? createServer(listener)
      : createHttpsServer({ ...options.tls, requestCert: true, rejectUnauthorized: false }, listener);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls === undefined ? 'http' : 'https';
  const issuer = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  signingKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const { features, ...configuration } = options.configuration ?? {};
  // Its in-memory adapter announces itself on console.warn; that is the intended setup for tests.
  const quiet = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const provider = new Provider(issuer, {
      jwks: { keys: [{ ...signingKey, kid: 'test', use: 'sig', alg: 'RS256' }] as never },
      ttl: { ClientCredentials: 600 },
      ...configuration,
      features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, ...features },
    });
    // Not the static `clients` option: the provider structuredClone()s those, and under Jest's vm the
    // clones' objects come from another realm, so it refuses a client's `jwks` as "not a plain object".
    // Its in-memory adapter keeps our objects as they are.
    // (The typings leave out Client's static `adapter`; oidc-provider has it, as on every model.)
    const clients = (provider.Client as unknown as { adapter: Adapter }).adapter;
    for (const client of options.clients) await clients.upsert(client.client_id, { ...client });
    handler = provider.callback();
    return {
      issuer,
      tokenUrl: `${issuer}/token`,
      provider,
      close: () =>
        new Promise<void>((resolve, reject) => {
          for (const socket of sockets) socket.destroy();
          server.close((error) => (error ? reject(error) : resolve()));
        }),
    };
  } catch (error) {
    server.close();
    throw error;
  } finally {
    quiet.mockRestore();
  }
}

/** A client that may only use the client-credentials grant (no redirects, no response types). */
export function machineClient(metadata: ClientMetadata): ClientMetadata {
  return { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], ...metadata };
}
