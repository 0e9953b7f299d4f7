import { createHash } from 'node:crypto';

/** A short, one-way fingerprint: how a token or secret may appear in logs and keys. */
export function fingerprint(value: string, length = 12): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, length);
}
