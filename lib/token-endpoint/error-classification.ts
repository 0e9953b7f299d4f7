import type { OAuthErrorCode } from '../errors/oauth-error-code.js';

/** The code a status implies when the body names none (the table in docs/errors.md). */
export function codeForStatus(status: number): OAuthErrorCode {
  if (status === 401 || status === 403) return 'invalid_client';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  if (status >= 200 && status < 300) return 'invalid_response';
  return 'invalid_request';
}

/** Network errors, timeouts, 5xx and 429 may succeed later; other answers will not. */
export function isRetryable(code: OAuthErrorCode, status: number | undefined): boolean {
  if (status === undefined) return code === 'network_error' || code === 'timeout';
  return status === 429 || status >= 500;
}

/** `Retry-After` as delay-seconds or an HTTP-date, in ms from `now`. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter: a uniform delay in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
}
