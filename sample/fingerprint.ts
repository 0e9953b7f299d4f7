import { createHash } from 'node:crypto';

/** How the sample shows a token: a short one-way fingerprint, never the token. */
export const fingerprint = (token: string) => createHash('sha256').update(token).digest('base64url').slice(0, 12);
