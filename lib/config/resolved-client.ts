import type { ClientAuth } from '../client-auth/client-auth.js';
import type { DpopKey } from '../dpop/dpop-key.js';
import type { IssuerEndpoint } from '../client-auth/issuer-endpoint.js';
import type {
  ClientSecret,
  OAuthClientOptions,
  RetryOptions,
  TokenTlsOptions,
} from '../interfaces/client-options.interface.js';
import type { TokenStrategy } from '../strategies/token-strategy.interface.js';

export interface TokenPolicy {
  skewMs: number;
  defaultTtlMs: number;
  timeoutMs: number;
  retry: RetryOptions;
  transport: TokenTransport;
}

/** How the token request travels: TLS material and proxy, as resolved for one client. */
export interface TokenTransport {
  readonly tls?: TokenTlsOptions;
  readonly proxy?: string;
  readonly proxyFromEnv?: boolean;
}

/** A client as the module uses it: options validated, defaults merged, strategy resolved. */
export interface ResolvedClient {
  readonly name: string;
  readonly options: Readonly<OAuthClientOptions>;
  readonly strategy: TokenStrategy;
  /** `tokenUrl`, or `baseUrl` (or the strategy's default host) + its path; `undefined` with `issuer`. */
  readonly tokenUrl: string | undefined;
  /** With `issuer`: the token endpoint its metadata names (discovered on the first token request). */
  readonly issuer?: IssuerEndpoint;
  /** How the client authenticates (a secret, an assertion, its certificate). */
  readonly auth: ClientAuth;
  /** The client's DPoP key, when it uses DPoP (`dpop` option). */
  readonly dpop?: DpopKey;
  /** URL prefixes (as configured, validated) whose requests get this client's token. */
  readonly attachTo: readonly string[];
  /** Configured scopes, split and de-duplicated. */
  readonly scope: readonly string[];
  readonly policy: TokenPolicy;
  /**
   * Replaced by `TokenService.setCredentials` (rotation). The secret is `''` for a client with none,
   * or a provider called for each token request.
   */
  credentials: { readonly clientId: string; readonly clientSecret: ClientSecret };
}

export const DEFAULT_POLICY: TokenPolicy = {
  skewMs: 60_000,
  defaultTtlMs: 300_000,
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 10_000 },
  transport: {},
};

/** `'a b'`, `['b', 'a', 'a']` → sorted unique scope tokens. */
export function normalizeScope(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  const tokens = typeof scope === 'string' ? scope.split(/\s+/) : scope;
  return [...new Set(tokens.filter((s) => s.length > 0))].sort();
}
