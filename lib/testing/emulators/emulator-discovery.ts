/** Authorization server metadata (RFC 8414) as the `oauth2` emulator serves it. */
import { ASSERTION_ALGORITHMS } from './assertion-verifier.js';
import type { EmulatorAuthMethod } from './emulator.types.js';

/** Where the server's URLs are, as the running emulator knows them. */
export interface EmulatorEndpoint {
  issuer: string;
  tokenUrl: string;
  /** Set when the emulator signs JWT access tokens. */
  jwksUri?: string;
  /** Listening on HTTPS with client certificates. */
  mtls: boolean;
}

/**
 * The metadata locations for an issuer whose path is `basePath`: RFC 8414 §3.1 inserts the
 * well-known segment before the path; OpenID Connect Discovery appends it to the issuer.
 */
export function discoveryPaths(basePath: string): string[] {
  return [`/.well-known/oauth-authorization-server${basePath}`, `${basePath}/.well-known/openid-configuration`];
}

export function authorizationServerMetadata(
  endpoint: EmulatorEndpoint,
  methods: readonly EmulatorAuthMethod[],
  scopes: readonly string[] | undefined,
): Record<string, unknown> {
  const algorithms = [
    ...(methods.includes('private_key_jwt') ? ASSERTION_ALGORITHMS.private_key_jwt : []),
    ...(methods.includes('client_secret_jwt') ? ASSERTION_ALGORITHMS.client_secret_jwt : []),
  ];
  return {
    issuer: endpoint.issuer,
    token_endpoint: endpoint.tokenUrl,
    ...(endpoint.jwksUri === undefined ? {} : { jwks_uri: endpoint.jwksUri }),
    grant_types_supported: ['client_credentials'],
    ...(scopes === undefined ? {} : { scopes_supported: [...scopes] }),
    token_endpoint_auth_methods_supported: [...methods],
    ...(algorithms.length === 0 ? {} : { token_endpoint_auth_signing_alg_values_supported: algorithms }),
    // RFC 8705 §5: one server here, so the mTLS alias is the token endpoint itself.
    ...(endpoint.mtls ? { mtls_endpoint_aliases: { token_endpoint: endpoint.tokenUrl } } : {}),
  };
}
