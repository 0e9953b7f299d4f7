import type { Type } from '@nestjs/common';
import type { BUILT_IN_STRATEGIES, BuiltInStrategyName } from '../strategies/built-in-strategies.js';
import type { TokenStrategy } from '../strategies/token-strategy.interface.js';
import type { DpopOption } from '../dpop/dpop.options.js';

export type { BuiltInStrategyName };

/**
 * A credential kept elsewhere (a secret manager, a vault, a file): called for each token request,
 * its value never kept by the library beyond that request. A provider that throws or does not
 * settle within the client's `timeoutMs` fails the token request (`TokenRequestError`).
 */
export type CredentialProvider<T> = () => T | Promise<T>;

/** A client secret: the value, or a provider called for each token request. */
export type ClientSecret = string | CredentialProvider<string>;

/** How a Basic header encodes id and secret: RFC 6749 §2.3.1 form-encodes them first, `raw` does not. */
export type BasicEncoding = 'rfc6749' | 'raw';

export interface RetryOptions {
  /** Attempts in all, the first included; 1 disables retries. Default 3. */
  maxAttempts: number;
  /** First backoff step; doubles per attempt, with full jitter. Default 200. */
  baseDelayMs: number;
  /** Backoff ceiling. Default 5000. */
  maxDelayMs: number;
  /** A provider hint longer than this fails at once with `rate_limited`. Default 10 000. */
  maxRetryAfterMs: number;
}

/** Knobs with module-wide defaults that each client may override. */
export interface TokenPolicyOptions {
  /** Tokens are served until `expiresAt - skew` (at most half the lifetime). Default 60. */
  skewSeconds?: number;
  /** Lifetime assumed when the provider sends no `expires_in` and the token is no JWT. Default 300. */
  defaultTtlSeconds?: number;
  /** Deadline for one token-endpoint attempt, body included. Default 10 000. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /**
   * TLS for the token request: a client certificate (mutual TLS), its key and passphrase, a
   * private CA. A client's `tls` replaces the module-wide one as a whole.
   */
  tls?: TokenTlsOptions;
  /**
   * An `http(s)://` proxy for the token request (credentials in the URL become
   * `Proxy-Authorization`). A client's `proxy` replaces the module-wide one.
   */
  proxy?: string;
  /** Without `proxy`, honour `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`. Default false: no proxy. */
  proxyFromEnv?: boolean;
}

/** PEM strings or Buffers, as `node:tls` takes them. Never logged, never in an error. */
export interface TokenTlsOptions {
  cert?: string | Buffer;
  key?: string | Buffer;
  ca?: string | Buffer | (string | Buffer)[];
  passphrase?: string;
  pfx?: string | Buffer;
}

export interface BaseClientOptions extends TokenPolicyOptions {
  /** The API's base URL; the token URL is `baseUrl` + the strategy's token path. */
  baseUrl?: string;
  /** The full token URL; overrides `baseUrl` for the token request. */
  tokenUrl?: string;
  clientId: string;
  /**
   * The shared secret, or a function that reads it from a secret manager. Every dialect needs one,
   * except `oauth2` with `authMethod` `private_key_jwt`, `tls_client_auth` or
   * `self_signed_tls_client_auth` (and a custom strategy declaring those).
   */
  clientSecret?: ClientSecret;
  scope?: string | string[];
  /** URL prefixes whose requests get this client's token. Default `[baseUrl]` when `baseUrl` is set. */
  attachTo?: string[];
  /**
   * Sender-constrained tokens (RFC 9449): a proof signed with this key on the token request and on
   * every call that carries a `DPoP` token. `true` makes an ES256 key at boot (in memory only).
   */
  dpop?: DpopOption;
}

/** A user strategy: a class resolved through Nest's DI, with whatever extra options it reads. */
export interface CustomClientOptions extends BaseClientOptions {
  strategy: Type<TokenStrategy>;
  [option: string]: unknown;
}

/** The options type a strategy class reads (its `TokenStrategy<O>`). */
type OptionsOf<S> = S extends new () => TokenStrategy<infer O> ? O : never;

/** Each built-in dialect's options, by name; each type lives in its strategy file. */
export type BuiltInClientOptions = { [N in BuiltInStrategyName]: OptionsOf<(typeof BUILT_IN_STRATEGIES)[N]> };

export type OAuthClientOptions = BuiltInClientOptions[BuiltInStrategyName] | CustomClientOptions;
