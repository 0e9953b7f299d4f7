import type { OAuthErrorCode } from './oauth-error-code.js';
import { OAuthError } from './oauth.error.js';
import { tokenRequestMessage } from './messages.js';

export interface TokenRequestErrorDetails {
  client: string;
  code: OAuthErrorCode;
  status?: number;
  description?: string;
  providerCode?: string;
  retryAfterMs?: number;
  attempts: number;
  /** A short, redacted excerpt of a body that was not the JSON the dialect speaks. */
  bodySnippet?: string;
}

/** No token could be had from a token endpoint. Carries no secret and no token. */
export class TokenRequestError extends OAuthError implements TokenRequestErrorDetails {
  readonly client: string;
  readonly code: OAuthErrorCode;
  readonly status?: number;
  readonly description?: string;
  readonly providerCode?: string;
  readonly retryAfterMs?: number;
  readonly attempts: number;
  readonly bodySnippet?: string;

  constructor(details: TokenRequestErrorDetails, options?: { cause?: unknown }) {
    super(tokenRequestMessage(details), options);
    this.client = details.client;
    this.code = details.code;
    this.status = details.status;
    this.description = details.description;
    this.providerCode = details.providerCode;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts;
    this.bodySnippet = details.bodySnippet;
  }

  /** The same failure again, for a caller turned away during a cooldown without a request. */
  repeatWithin(retryAfterMs: number): TokenRequestError {
    return new TokenRequestError({ ...this.details(), retryAfterMs, attempts: 0 });
  }

  details(): TokenRequestErrorDetails {
    const { client, code, status, description, providerCode, retryAfterMs, attempts, bodySnippet } = this;
    return { client, code, status, description, providerCode, retryAfterMs, attempts, bodySnippet };
  }

  toJSON() {
    return { name: this.name, message: this.message, ...this.details() };
  }
}
