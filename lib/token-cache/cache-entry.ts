import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { StoredToken } from '../stores/token-store.interface.js';

/** A cached token with the two moments that matter, computed once when it is stored. */
export interface CacheEntry {
  readonly token: AccessToken;
  readonly obtainedAt: number;
  /** From here a background refresh starts while the token keeps being served. */
  readonly refreshAt: number;
  /** From here the token is no longer served: `expiresAt - skew`. */
  readonly staleAt: number;
}

/**
 * Skew is `skewMs` but at most half the lifetime. Refresh-ahead starts at 75% of the lifetime,
 * or at 75% of the servable window when skew leaves less, so steady traffic never waits.
 */
export function toCacheEntry({ token, obtainedAt }: StoredToken, skewMs: number): CacheEntry {
  const lifetime = token.expiresAt - obtainedAt;
  const staleAt = token.expiresAt - Math.min(skewMs, lifetime / 2);
  const refreshAt = obtainedAt + Math.min(0.75 * lifetime, 0.75 * (staleAt - obtainedAt));
  return { token, obtainedAt, refreshAt, staleAt };
}
