import type { OAuthErrorCode } from '../errors/oauth-error-code.js';

/** One client's health as the token layer knows it, without calling any token endpoint. */
export interface OAuthClientHealth {
  /**
   * `up`: it holds a servable token, or has not been asked for one yet. `down`: its last token
   * request failed (a cooldown or an error that retrying does not fix) and it holds no servable token.
   */
  status: 'up' | 'down';
  /** Seconds until its soonest-expiring cached token expires, by the module's clock. */
  expiresInSeconds?: number;
  /** The code of its last failed token request, while that failure stands. */
  lastError?: OAuthErrorCode;
}
