import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { CredentialProvider } from '../interfaces/client-options.interface.js';

/**
 * How a client proves who it is to the token endpoint: a shared secret (Basic header or form),
 * a JWT assertion (RFC 7523: signed with the secret or a private key), or its TLS certificate
 * (RFC 8705).
 */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth';

/** JWS algorithms of client assertions: `HS256` for `client_secret_jwt`, the others for `private_key_jwt`. */
export type ClientAssertionAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA' | 'HS256';

/** A private key: PEM (string or Buffer), a `KeyObject`, or a private JWK (with `d`). */
export type PrivateKeyInput = string | Buffer | KeyObject | JsonWebKey;

/** The claims of the assertions the library signs. */
export interface ClientAssertionOptions {
  /** `aud`. Default: the discovered issuer when `issuer` is set, else the token URL. An array stays an array. */
  audience?: string | string[];
  /** `exp` − `iat`, in seconds. Default 60. */
  lifetimeSeconds?: number;
  /** Added to the claims; `iss`, `sub`, `aud`, `jti`, `iat` and `exp` are the library's own. */
  claims?: Record<string, unknown>;
}

/** What a {@link ClientAssertionFactory} is told about the assertion wanted. */
export interface ClientAssertionContext {
  /** The client's name in `OAuthModule.forRoot({ clients })`. */
  readonly client: string;
  /** The token URL the assertion is for (the discovered one with `issuer`). */
  readonly tokenUrl: string;
  /** The `aud` the assertion should carry (see {@link ClientAssertionOptions.audience}). */
  readonly audience: string | string[];
}

/** Makes a client assertion elsewhere (a KMS, a sidecar, a file); called once per token request attempt. */
export type ClientAssertionFactory = (context: ClientAssertionContext) => string | Promise<string>;

/**
 * Client authentication options beyond a shared secret, read for strategies that declare
 * `authMethods` (the built-in `oauth2` does). Keys, secrets and assertions are credentials: the
 * library never puts them in an error, a log line or a cache key.
 */
export interface ClientAuthOptions {
  /** Default `'client_secret_basic'` for `oauth2`. */
  authMethod?: ClientAuthMethod;
  /**
   * `private_key_jwt`: the key that signs the assertions (`clientSecret` is then not required), or
   * a function that reads it from a secret manager for each token request (then the key is checked
   * when it is read, not at boot, and the cache key holds no thumbprint of it).
   */
  privateKey?: PrivateKeyInput | CredentialProvider<PrivateKeyInput>;
  /** Decrypts an encrypted PEM `privateKey`. */
  privateKeyPassphrase?: string;
  /** The JWS `kid`. Default: a private JWK's own `kid`; otherwise none. */
  keyId?: string;
  /**
   * Default by key: RSA → `RS256`, EC P-256 → `ES256`, P-384 → `ES384`, Ed25519 → `EdDSA`
   * (`PS256` on request for RSA); `HS256` for `client_secret_jwt`.
   */
  algorithm?: ClientAssertionAlgorithm;
  /** `aud`, lifetime and extra claims of the assertions the library signs. */
  assertion?: ClientAssertionOptions;
  /** `private_key_jwt` with an assertion made elsewhere, sent as is (then `privateKey` is not required). */
  clientAssertion?: ClientAssertionFactory;
}
