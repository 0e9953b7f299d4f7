/** What one provider emulator supplies to the shared server: its routes, checks and formats. */
import type {
  EmulatorClientOptions,
  EmulatorErrorNames,
  EmulatorName,
  EmulatorRequest,
  ErrorDetails,
  ExpiresInForm,
  RawReply,
} from './emulator.types.js';
import type { CredentialBook } from './credential-book.js';
import type { EmulatorEndpoint } from './emulator-discovery.js';

/** Who a valid token request is from, and the scope granted. */
export interface TokenGrant {
  clientId: string;
  scope?: string;
  /** The thumbprint of the DPoP key the token is bound to. */
  jkt?: string;
}

export type TokenRequestCheck = { ok: true; grant: TokenGrant } | { ok: false; reply: RawReply };

/** A freshly minted token, `expires_in` already written in the configured form. */
export interface MintedToken {
  accessToken: string;
  /** `undefined` when the form is `missing`. */
  expiresIn: number | string | undefined;
  scope?: string;
  /** A DPoP-bound token (`token_type: 'DPoP'`): the thumbprint of its key. */
  jkt?: string;
}

/**
 * An RFC 6749 §5.1 token body (`access_token`, `token_type`, `expires_in` when the form has one),
 * the shape every snake_case provider answers with; `extra` adds its own fields.
 */
export function rfc6749TokenBody(
  token: MintedToken,
  tokenType: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    access_token: token.accessToken,
    token_type: tokenType,
    ...(token.expiresIn === undefined ? {} : { expires_in: token.expiresIn }),
    ...extra,
  };
}

export interface EmulatorDialect<N extends EmulatorName> {
  readonly name: N;
  /** Below the base path. */
  readonly tokenPath: string;
  readonly tokenFormat: 'jwt' | 'opaque';
  readonly expiresIn: ExpiresInForm;
  /** Set when the token endpoint demands DPoP proofs and binds its tokens to their keys (RFC 9449). */
  readonly dpop?: { requireNonce: boolean };
  /** Checks the token request's shape and credentials exactly as the provider does. */
  checkTokenRequest(
    request: EmulatorRequest,
    credentials: CredentialBook,
    now: number,
    endpoint: EmulatorEndpoint,
  ): TokenRequestCheck;
  tokenReply(token: MintedToken, grant: TokenGrant): RawReply;
  errorReply(error: EmulatorErrorNames[N], details: ErrorDetails, request: EmulatorRequest): RawReply;
  /** The protected resource's answer to a missing, unknown, expired or revoked token. */
  invalidTokenReply(request: EmulatorRequest): RawReply;
  notFoundReply(request: EmulatorRequest): RawReply;
  methodNotAllowedReply(request: EmulatorRequest): RawReply;
  /** Authorization server metadata (RFC 8414), for a provider that publishes it. */
  metadata?(endpoint: EmulatorEndpoint): Record<string, unknown>;
  /** Provider-specific JWT claims. */
  jwtClaims?(grant: TokenGrant): Record<string, unknown>;
  clientOptions(baseUrl: string, credentials: { clientId: string; clientSecret: string }): EmulatorClientOptions[N];
}
