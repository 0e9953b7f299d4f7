/**
 * `expires_in` normalisation (docs/configuration.md): number or numeric string; above 1e12 an absolute epoch in
 * ms, above 1e9 an absolute epoch in s, else seconds from now; a JWT's `exp` caps the result;
 * missing → JWT `exp` → the default TTL; 0 → use once; negative or NaN → invalid; at most one year.
 */
export type ExpiryResult =
  { ok: true; expiresAt: number; source: 'expires_in' | 'jwt' | 'default' } | { ok: false; problem: string };

import { readNumber } from '../common/read-number.js';

/** Longest lifetime kept: `Long.MAX_VALUE` or `1e308` must not become a date JS cannot hold. */
export const MAX_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

/** The `exp` claim (epoch ms) of a JWT access token, or undefined for an opaque token. */
export function jwtExpiry(accessToken: string): number | undefined {
  const parts = accessToken.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    const exp = (claims as { exp?: unknown })?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function computeExpiry(
  expiresIn: unknown,
  accessToken: string,
  now: number,
  defaultTtlMs: number,
): ExpiryResult {
  const value = readNumber(expiresIn);
  if (value === 'invalid' || (typeof value === 'number' && value < 0)) {
    return { ok: false, problem: 'expires_in is not a non-negative number' };
  }
  const jwtExp = jwtExpiry(accessToken);
  if (value === 0) return { ok: true, expiresAt: now, source: 'expires_in' };

  let expiresAt: number;
  let source: 'expires_in' | 'jwt' | 'default';
  if (value === undefined) {
    [expiresAt, source] = jwtExp === undefined ? [now + defaultTtlMs, 'default'] : [jwtExp, 'jwt'];
  } else {
    expiresAt = value > 1e12 ? value : value > 1e9 ? value * 1000 : now + value * 1000;
    source = 'expires_in';
    if (jwtExp !== undefined && jwtExp < expiresAt) [expiresAt, source] = [jwtExp, 'jwt'];
  }
  expiresAt = Math.floor(Math.min(expiresAt, now + MAX_LIFETIME_MS));
  if (expiresAt <= now)
    return { ok: false, problem: 'the token had already expired when it arrived (check the clocks)' };
  return { ok: true, expiresAt, source };
}
