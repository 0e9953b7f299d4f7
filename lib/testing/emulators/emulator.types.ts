/** The public types of the provider emulators (`nestjs-client-credentials/testing`). */
import type { JsonWebKey } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { BuiltInClientOptions, BuiltInStrategyName } from '../../interfaces/client-options.interface.js';

/** The emulated token endpoints: one per built-in strategy. */
export type EmulatorName = BuiltInStrategyName;

/**
 * How a token response writes `expires_in` (with a lifetime of 3600 s):
 * - `seconds`: `3600`
 * - `string`: `"3600"`
 * - `absolute`: the expiry as epoch seconds (`1750392000`, FirstVision's form)
 * - `absolute-ms`: the expiry as epoch milliseconds
 * - `milliseconds`: the lifetime in ms, `3600000`
 * - `missing`: no `expires_in` at all
 */
export type ExpiresInForm = 'seconds' | 'string' | 'absolute' | 'absolute-ms' | 'milliseconds' | 'missing';

/** The emulator's time source (epoch ms). Pass the `FakeClock` the module uses, so both agree. */
export interface EmulatorClock {
  now(): number;
}

/** Options every emulator takes. */
export interface EmulatorOptions {
  /** The emulator's own client (`Emulator.registerClient` adds more). Default `'test-client'`. */
  clientId?: string;
  /** Its secret. Default `'test-secret'`. */
  clientSecret?: string;
  /** A path prefix the whole API lives under, such as `/sandbox`; it ends up in `baseUrl`. */
  basePath?: string;
  /** Lifetime of issued tokens. Default 3600. */
  tokenLifetimeSeconds?: number;
  /** How `expires_in` is written. Default: the provider's own form. */
  expiresIn?: ExpiresInForm;
  /** A delay before every token-endpoint answer (real time). Default 0. */
  latencyMs?: number;
  /** `jwt` (RS256) or `opaque`. Default: what the provider issues. */
  tokenFormat?: 'jwt' | 'opaque';
  /** Time source for `iat`, `exp`, token liveness and rate limits. Default `Date.now`. */
  clock?: EmulatorClock;
  /**
   * Listen on HTTPS (`https://127.0.0.1:<port>`) with this server certificate and key. The server
   * asks every client for a certificate but lets a connection without one through, so that a token
   * request without it gets the provider's error and discovery stays reachable.
   */
  tls?: EmulatorTlsOptions;
}

/** PEM strings or Buffers, as `node:tls` takes them. */
export interface EmulatorTlsOptions {
  /** The server certificate (for `127.0.0.1`). */
  cert: string | Buffer;
  /** Its private key. */
  key: string | Buffer;
  /** The CA(s) whose client certificates count as authorized (`tls_client_auth`). */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** The client authentication methods the `oauth2` emulator knows (RFC 6749, RFC 7523, RFC 8705). */
export type EmulatorAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'client_secret_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth';

export interface OAuth2EmulatorOptions extends EmulatorOptions {
  /** Scopes the client may ask for; any other is `invalid_scope`. Default: any scope. */
  scopes?: string[];
  /**
   * Client authentication methods accepted. Default `['client_secret_basic', 'client_secret_post']`.
   * `private_key_jwt` needs `jwks`; `tls_client_auth` and `self_signed_tls_client_auth` need `tls`.
   */
  authMethods?: EmulatorAuthMethod[];
  /** How the Basic header is decoded. Default `'rfc6749'` (form-decoded after Base64). */
  basicEncoding?: 'rfc6749' | 'raw';
  /**
   * The client's public keys for `private_key_jwt` (RS256, PS256, ES256, ES384, EdDSA). The
   * assertion's `kid` picks the key when present; without one, any key that fits the algorithm.
   */
  jwks?: { keys: JsonWebKey[] };
  /** The longest `exp` − now an assertion may have. Default 300. */
  assertionMaxLifetimeSeconds?: number;
  /**
   * `tls_client_auth`: the subject the client certificate must have, as a common name
   * (`'token-client'`) or a DN (`'CN=token-client,O=Example'`, any order, no escaped commas).
   * Default: any certificate signed by `tls.ca`.
   */
  clientCertSubject?: string;
  /** `self_signed_tls_client_auth`: the client's registered certificates (PEM), matched by SHA-256 fingerprint. */
  selfSignedCertificates?: Array<string | Buffer>;
  /**
   * Sender-constrained tokens (RFC 9449): the token endpoint demands a `DPoP` proof (ES256, EdDSA, RS256 or PS256)
   * and issues `token_type: 'DPoP'` tokens bound to the proof's key; the protected resource then accepts such a
   * token only as `Authorization: DPoP <token>` with a matching proof. `{ requireNonce: true }` also demands
   * server nonces (§8, §9), one for the token endpoint and one for the resource. Default: no DPoP.
   */
  dpop?: boolean | EmulatorDpopOptions;
}

/** The `oauth2` emulator's DPoP settings. */
export interface EmulatorDpopOptions {
  /**
   * Demand a `nonce` in every proof: a proof without the current one is answered `400 use_dpop_nonce` (token
   * endpoint) or `401` with `WWW-Authenticate: DPoP error="use_dpop_nonce"` (resource), each with a `DPoP-Nonce`
   * header; every answer of either carries its current nonce. Default false.
   */
  requireNonce?: boolean;
}

/** Where a DPoP proof is checked: the token endpoint or the protected resource (each has its own nonce). */
export type EmulatorDpopEndpoint = 'token' | 'resource';

/** The DPoP errors of RFC 9449 the emulator answers with (and `invalid_token` for a token bound to another key). */
export type EmulatorDpopError = 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token';

/**
 * The `DPoP` header of a request as the emulator decoded it: the proof's header and claims as sent (unverified)
 * and the thumbprint of its public key. Never a private key.
 */
export interface EmulatorDpopProof {
  /** The header's `typ` (`'dpop+jwt'` in a valid proof). */
  typ?: string;
  /** The header's `alg`. */
  alg?: string;
  /** The RFC 7638 SHA-256 thumbprint (base64url) of the header's `jwk`. */
  jkt: string;
  /** The proof's unique id. */
  jti?: string;
  /** The HTTP method the proof is for. */
  htm?: string;
  /** The URL the proof is for. */
  htu?: string;
  /** When it was made, epoch seconds. */
  iat?: number;
  /** The server nonce it carries. */
  nonce?: string;
  /** At the resource: base64url SHA-256 of the access token. */
  ath?: string;
  /**
   * What the emulator made of it: `'accepted'`, or the error it answered with. Absent when it did not check the
   * proof (an emulator without `dpop`, a scripted answer, an unknown token).
   */
  outcome?: 'accepted' | EmulatorDpopError;
  /** Why it refused the proof, in the words of its `error_description`. */
  problem?: string;
}

export type YouHodlerEmulatorOptions = EmulatorOptions;

export interface PalisadeEmulatorOptions extends EmulatorOptions {
  /** The `scope` the token response reports. Default `'balances:read'`. */
  grantedScope?: string;
}

export interface FirstVisionEmulatorOptions extends EmulatorOptions {
  /** The request form the tenant accepts. Default `'basic-query'`. */
  variant?: 'basic-query' | 'json-body';
  /** Scopes the client may ask for; any other is `240101`. Default: any scope. */
  scopes?: string[];
  /** How the Basic header is decoded. Default `'rfc6749'`. */
  basicEncoding?: 'rfc6749' | 'raw';
}

export interface AlternativePaymentsEmulatorOptions extends EmulatorOptions {
  /** Token requests allowed per second per client id before a 429; `false` turns it off. Default 5. */
  rateLimitPerSecond?: number | false;
  /** How the Basic header is decoded. Default `'rfc6749'`. */
  basicEncoding?: 'rfc6749' | 'raw';
}

export interface EmulatorOptionsByName {
  oauth2: OAuth2EmulatorOptions;
  youhodler: YouHodlerEmulatorOptions;
  palisade: PalisadeEmulatorOptions;
  firstvision: FirstVisionEmulatorOptions;
  'alternative-payments': AlternativePaymentsEmulatorOptions;
}

/**
 * The errors each emulator can be told to answer with, in that provider's format. Only the codes
 * found in the providers' documents are theirs; see docs/testing.md for the emulator's own ones.
 */
export interface EmulatorErrorNames {
  oauth2:
    | 'invalid_request'
    | 'invalid_client'
    | 'invalid_grant'
    | 'unauthorized_client'
    | 'unsupported_grant_type'
    | 'invalid_scope'
    | 'rate_limited'
    | 'server_error'
    | 'temporarily_unavailable'
    | 'invalid_dpop_proof'
    | 'use_dpop_nonce';
  youhodler:
    | 'invalid_request'
    | 'unauthorized'
    | 'idempotency_conflict'
    | 'not_admissible'
    | 'rate_limited'
    | 'upstream_error'
    | 'temporarily_unavailable';
  palisade:
    | 'invalid_argument'
    | 'unauthenticated'
    | 'permission_denied'
    | 'not_found'
    | 'resource_exhausted'
    | 'internal'
    | 'unavailable';
  firstvision: 'invalid_credentials' | 'bad_request' | 'rate_limited' | 'server_error' | 'service_unavailable';
  'alternative-payments':
    'invalid_credentials' | 'bad_request' | 'rate_limited' | 'server_error' | 'service_unavailable';
}

/** The `OAuthModule` client options that talk to an emulator, per provider. */
export type EmulatorClientOptions = BuiltInClientOptions;

/** Details of a named scripted error. */
export interface ErrorDetails {
  /** The provider's own retry hint in the body, where it has one (YouHodler `details.retry_after_ms`). */
  retryAfterMs?: number;
  /** A `Retry-After` header (seconds or an HTTP-date). */
  retryAfterSeconds?: number | string;
  /** Replaces the provider's human-readable message. */
  description?: string;
}

/** An answer written as given (JSON unless `body` is a string). */
export interface RawReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A scripted failure: a named error in the provider's format, a raw reply (an HTML error page,
 * a 200 without a token, …), or `{ drop: true }` to close the connection without an answer.
 */
export type ScriptedFailure<E extends string> = E | ({ error: E } & ErrorDetails) | RawReply | { drop: true };

export interface FailNextOptions {
  /** How many answers in a row. Default 1. */
  times?: number;
  /** Which endpoint fails: the token endpoint (default), the protected resource or the discovery metadata. */
  on?: 'token' | 'resource' | 'discovery';
}

/** One request the emulator received, whatever its route. */
export interface EmulatorRequest {
  /**
   * `token` for the token endpoint, `resource` for the protected resource, `discovery` for the
   * authorization server metadata (`oauth2`), else `other`.
   */
  kind: 'token' | 'resource' | 'discovery' | 'other';
  method: string;
  /** The path without the query (base path included). */
  path: string;
  /** The raw request target, query included. */
  url: string;
  query: Record<string, string>;
  /** Lower-case names, as Node gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body ('' when empty). */
  body: string;
  /** The body parsed as JSON, when the content type is JSON and it parses. */
  json?: unknown;
  /** The body parsed as a form, when the content type is `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  /** The emulator clock's time of arrival. */
  receivedAt: number;
  /** Over HTTPS, the certificate the client presented (absent when it sent none). */
  clientCertificate?: EmulatorClientCertificate;
  /** The `DPoP` proof, when the request carried one that decodes (with a public `jwk`), whatever the emulator. */
  dpop?: EmulatorDpopProof;
  /**
   * Who the emulator took the request to be from: at the token endpoint, the client it issued a token to; at the
   * protected resource, the client whose token it accepted. Absent when it refused the request or answered a
   * scripted failure.
   */
  clientId?: string;
}

/** A client certificate as the HTTPS emulator saw it. */
export interface EmulatorClientCertificate {
  /** The subject, one `KEY=value` per line as `X509Certificate.subject` writes it. */
  subject: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex. */
  fingerprint256: string;
  /** Whether it chains to `tls.ca`. */
  authorized: boolean;
}

/** A token the emulator issued. */
export interface IssuedToken {
  accessToken: string;
  clientId: string;
  scope?: string;
  issuedAt: number;
  /** Epoch ms; the protected resource refuses the token from then on. */
  expiresAt: number;
  revoked: boolean;
  /** A DPoP-bound token: the thumbprint of the key it is bound to (also its JWT's `cnf.jkt`). */
  jkt?: string;
}

/** What the protected resource answers to a live token. */
export interface ProtectedResourceAnswer {
  ok: true;
  provider: EmulatorName;
  clientId: string;
  scope?: string;
  method: string;
  path: string;
  /** The request body, echoed back. */
  body: string;
  /** A DPoP-bound token: the thumbprint of its key. */
  jkt?: string;
}

/** A running emulator. Every setter returns the emulator, so calls chain. */
export interface Emulator<N extends EmulatorName = EmulatorName> {
  readonly name: N;
  /** `http://127.0.0.1:<port>` (`https://` with `tls`) + the base path: what goes into `baseUrl`. */
  readonly baseUrl: string;
  /**
   * The issuer identifier, equal to `baseUrl`: what goes into `issuer`. The `oauth2` emulator
   * serves its metadata at `/.well-known/oauth-authorization-server<basePath>` (RFC 8414) and
   * `<baseUrl>/.well-known/openid-configuration`.
   */
  readonly issuer: string;
  readonly tokenUrl: string;
  /**
   * The protected resource (`GET|POST … <baseUrl>/ping`); it accepts only live tokens (a DPoP-bound one as
   * `Authorization: DPoP` with a proof by its key), whichever client they were issued to.
   */
  readonly resourceUrl: string;
  /** The current credentials of the emulator's own client. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every request received, in order. */
  readonly requests: readonly EmulatorRequest[];
  readonly tokenRequests: readonly EmulatorRequest[];
  readonly resourceRequests: readonly EmulatorRequest[];
  readonly issuedTokens: readonly IssuedToken[];
  /**
   * Client options for `OAuthModule.forRoot({ clients: { name: emulator.clientOptions() } })`. The
   * `oauth2` emulator sets `authMethod` to its first method beyond the secret ones, if any; add the
   * `privateKey` (private_key_jwt) or `tls` (the TLS methods) yourself, as overrides. With `dpop` it adds
   * `dpop: true`.
   */
  clientOptions(overrides?: Partial<EmulatorClientOptions[N]>): EmulatorClientOptions[N];
  /** The next answer(s) of the token endpoint (or the resource) fail as given. Failures queue up. */
  failNext(failure: ScriptedFailure<EmulatorErrorNames[N]>, options?: number | FailNextOptions): this;
  /** Delay every token-endpoint answer by `ms` (real time). */
  setLatency(ms: number): this;
  setTokenLifetime(seconds: number): this;
  setExpiresIn(form: ExpiresInForm): this;
  /**
   * Replaces the own client's credentials; `keepPrevious` keeps the old secret valid too (a rotation grace period).
   * A `clientId` of a client added by `registerClient` throws.
   */
  setCredentials(credentials: { clientId?: string; clientSecret: string; keepPrevious?: boolean }): this;
  /**
   * Registers one more client beside the emulator's own, as a provider registers a client per tenant: its
   * credentials are accepted wherever the dialect takes a client id and secret (for `oauth2`: `client_secret_basic`,
   * `client_secret_post` and `client_secret_jwt`; `private_key_jwt` and the TLS methods stay the own client's), and
   * its tokens record it as their `clientId`. Registering a known client id again gives it a new secret, with
   * `keepPrevious` as in `setCredentials`. `resourcePath` (below the base path, say `/merchants/acct-1`) serves the
   * client's own protected resource at `<baseUrl><resourcePath>/ping` and `/echo`, which accepts that client's
   * tokens only (another client's live token gets the 401 of an unknown one).
   */
  registerClient(client: {
    clientId: string;
    clientSecret: string;
    keepPrevious?: boolean;
    resourcePath?: string;
  }): this;
  /**
   * Forgets a client added by `registerClient`, as a provider deleting it: its credentials are refused and its tokens
   * revoked. An unknown id is ignored; the emulator's own client throws (`setCredentials` replaces it).
   */
  removeClient(clientId: string): this;
  /** Revokes one token, or every token when none is given; returns how many were live. */
  revoke(accessToken?: string): number;
  /** Whether the protected resource would accept this token now (with its DPoP proof, for a bound one). */
  isLive(accessToken: string): boolean;
  /**
   * The DPoP nonce the token endpoint (default) or the resource expects now (`undefined` without `dpop`). It stays
   * until `rotateDpopNonce`; a scripted `use_dpop_nonce` answer carries it too.
   */
  dpopNonce(endpoint?: EmulatorDpopEndpoint): string | undefined;
  /** Replaces the DPoP nonce of one endpoint, or both: a proof with the old one gets `use_dpop_nonce`. */
  rotateDpopNonce(endpoint?: EmulatorDpopEndpoint): this;
  /** The JSON Web Key Set the JWTs are signed with (also served at `<baseUrl>/.well-known/jwks.json`). */
  jwks(): { keys: Array<Record<string, unknown>> };
  /** Forgets recorded requests and pending scripted failures (issued tokens stay live). */
  reset(): this;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}
