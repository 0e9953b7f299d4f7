import type { ClientAuthMethod } from '../client-auth/client-auth.options.js';
import type { ConfigIssue } from '../common/validation.js';
import type { BaseClientOptions } from '../interfaces/client-options.interface.js';
import type { OAuthErrorCode } from '../errors/oauth-error-code.js';

export type { ConfigIssue };

/** Everything a strategy needs to build one token request. */
export interface TokenRequestContext<O extends BaseClientOptions = BaseClientOptions> {
  /** The client's name in `OAuthModule.forRoot({ clients })`. */
  readonly client: string;
  /** The client's options as configured (strategy-specific fields included). */
  readonly options: Readonly<O>;
  /**
   * `tokenUrl`, or `baseUrl` (or the strategy's default host) + `tokenPath`; with `issuer`, the
   * token endpoint its metadata names.
   */
  readonly tokenUrl: string;
  /** Current credentials (they can be rotated at runtime). */
  readonly clientId: string;
  /** `''` when the client has none (`private_key_jwt`, `tls_client_auth`). */
  readonly clientSecret: string;
  /** Scopes for this token: the request's override or the configured ones; may be empty. */
  readonly scope: readonly string[];
  /**
   * With `authMethod` `private_key_jwt` or `client_secret_jwt` (for a strategy that declares it in
   * `authMethods`): the signed JWT for RFC 7523's `client_assertion`, made for this attempt (a
   * fresh `jti` each time). A credential: never log it.
   */
  readonly clientAssertion?: string;
}

/** The HTTP request a strategy wants sent to the token endpoint. */
export interface TokenHttpRequest {
  method: 'POST' | 'GET';
  /** Absolute URL, query string included. */
  url: string;
  headers: Record<string, string>;
  /** Already encoded (JSON or form); absent for an empty body. */
  body?: string;
}

/** A token endpoint's answer, body cut at 1 MiB and parsed as JSON where it is JSON. */
export interface TokenHttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON body, or `undefined` when the body is empty or not JSON. */
  json: unknown;
  /** The raw body text (possibly cut). */
  text: string;
}

/** The token fields a dialect carries; the library validates and normalises them. */
export interface RawToken {
  accessToken?: unknown;
  tokenType?: unknown;
  expiresIn?: unknown;
  scope?: unknown;
}

/** What a dialect's error body says. Fields left out are derived from the HTTP status. */
export interface ProviderError {
  /** An RFC 6749 code (or a library code) when the body implies one; it beats the status. */
  code?: OAuthErrorCode;
  /** The provider's own code as a string (`'idempotency_conflict'`, `'240101'`, gRPC `'16'`). */
  providerCode?: string;
  description?: string;
  /** A provider-specific retry hint in ms (the `Retry-After` header is read by the library). */
  retryAfterMs?: number;
}

/**
 * One token-endpoint dialect: how to ask for a token and how to read the answer.
 * Built-in strategies are named in options (`strategy: 'palisade'`); a user strategy is a class
 * implementing this interface, resolved through Nest DI so it may inject other providers.
 */
export interface TokenStrategy<O extends BaseClientOptions = BaseClientOptions> {
  /** Appended to `baseUrl` when no `tokenUrl` is configured. */
  readonly tokenPath: string;
  /** Production base URL used when the client configures neither `baseUrl` nor `tokenUrl`. */
  readonly defaultBaseUrl?: string;
  /** Whether the dialect sends a scope; a configured scope is otherwise ignored with a warning. */
  readonly sendsScope?: boolean;
  /** A class-validator class for the strategy's own options; the module runs it at boot. */
  readonly optionsSchema?: new () => object;
  /**
   * The `authMethod` values the strategy sends. When declared, the library reads and checks
   * `authMethod`, `privateKey`, `keyId`, `algorithm`, `assertion` and `clientAssertion` at boot
   * (`clientSecret` is then optional for the methods that send none), and hands each attempt's
   * assertion to `buildRequest` as `clientAssertion`. Undeclared, those options are the strategy's own.
   */
  readonly authMethods?: readonly ClientAuthMethod[];
  /** Checks of the strategy's own options that a schema cannot express, run at boot after it. */
  validateOptions?(options: O): ConfigIssue[];
  /** Options accepted but not used as written (e.g. overridden by another), logged once at boot. */
  warnings?(options: O): string[];
  /** Parameters besides credentials and scope that make tokens different (e.g. `audience`). */
  cacheKeyParams?(options: O): unknown;
  buildRequest(context: TokenRequestContext<O>): TokenHttpRequest;
  /** Reads the token fields out of a 2xx response. */
  readToken(response: TokenHttpResponse, context: TokenRequestContext<O>): RawToken;
  /** Reads an error response (or a 2xx without a token). */
  readError(response: TokenHttpResponse, context: TokenRequestContext<O>): ProviderError;
}
