import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** The members RFC 7638 §3.2 hashes, per key type, in the order it fixes (lexicographic). */
const REQUIRED_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * The RFC 7638 thumbprint (SHA-256, base64url) of a key's public half: a public name for the key,
 * safe in a cache key. Keys JWK cannot express (RSA-PSS) are named by the hash of their SPKI.
 */
export function jwkThumbprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  let jwk: Record<string, unknown>;
  try {
    jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  } catch {
    return createHash('sha256')
      .update(publicKey.export({ format: 'der', type: 'spki' }))
      .digest('base64url');
  }
  const members = REQUIRED_MEMBERS[String(jwk.kty)] ?? Object.keys(jwk).sort();
  const canonical = `{${members.map((name) => `${JSON.stringify(name)}:${JSON.stringify(jwk[name])}`).join(',')}}`;
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}
