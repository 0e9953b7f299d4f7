import { createHash } from 'node:crypto';

/**
 * sha256 as base64url: how secrets enter cache keys, and how replicas compare an access token
 * without sending it (the Redis store's invalidation messages).
 */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** A short, one-way fingerprint: how a token or secret may appear in logs. */
export function fingerprint(value: string, length = 12): string {
  return digest(value).slice(0, length);
}
