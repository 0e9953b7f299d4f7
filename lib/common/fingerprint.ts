import { createHash } from 'node:crypto';

/**
 * sha256 as base64url: how secrets enter cache keys, and how replicas compare an access token
 * without sending it (the Redis store's invalidation messages).
 */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * A short, one-way fingerprint (the first 12 characters of the sha256, base64url): how the library
 * logs a token, and how an app may show one (to tell tokens apart, never to use them).
 */
export function fingerprint(value: string, length = 12): string {
  return digest(value).slice(0, length);
}
