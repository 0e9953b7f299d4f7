/**
 * Compact JWS reading and signature checks the emulators share (client assertions, DPoP proofs).
 * `node:crypto` only: the testing entry ships in the package and must load from CommonJS, where an
 * ESM-only JOSE library would not.
 */
import { constants, createHash, verify, type KeyObject } from 'node:crypto';
import { asRecord } from '../../common/values.js';

export interface JwsAlgorithm {
  digest: string | null;
  /** Whether the key is of the type the algorithm needs (no algorithm confusion). */
  fits(key: KeyObject): boolean;
  options?: { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
}

const curve = (key: KeyObject) => key.asymmetricKeyDetails?.namedCurve;

/** The asymmetric algorithms the emulators accept, each with the key type it needs. */
export const JWS_ALGORITHMS: Record<string, JwsAlgorithm> = {
  RS256: { digest: 'sha256', fits: (key) => key.asymmetricKeyType === 'rsa' },
  PS256: {
    digest: 'sha256',
    fits: (key) => key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  },
  // JOSE writes ECDSA signatures as r || s (IEEE P1363), not DER.
  ES256: {
    digest: 'sha256',
    fits: (key) => key.asymmetricKeyType === 'ec' && curve(key) === 'prime256v1',
    options: { dsaEncoding: 'ieee-p1363' },
  },
  ES384: {
    digest: 'sha384',
    fits: (key) => key.asymmetricKeyType === 'ec' && curve(key) === 'secp384r1',
    options: { dsaEncoding: 'ieee-p1363' },
  },
  EdDSA: { digest: null, fits: (key) => key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' },
};

export interface DecodedJws {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The signing input, `<header>.<payload>`. */
  input: Buffer;
  signature: Buffer;
}

/** A compact JWS with JSON object header and payload and a non-empty signature, else undefined. */
export function decodeJws(jwt: string): DecodedJws | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return undefined;
  try {
    const header = asRecord(JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')));
    const claims = asRecord(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
    if (header === undefined || claims === undefined || parts[2] === '') return undefined;
    return {
      header,
      claims,
      input: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** Whether `signature` over `input` is `algorithm`'s by `key`; false for a key that does not fit. */
export function signatureValid(algorithm: JwsAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  if (!algorithm.fits(key)) return false;
  try {
    return verify(algorithm.digest, input, { key, ...algorithm.options }, signature);
  } catch {
    return false;
  }
}

/** The members RFC 7638 §3.2 hashes, per key type, in their lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/** The RFC 7638 SHA-256 thumbprint of a public JWK (base64url), or undefined for an unknown shape. */
export function jwkThumbprint(jwk: Record<string, unknown>): string | undefined {
  const members = typeof jwk.kty === 'string' ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
  if (members === undefined || members.some((name) => typeof jwk[name] !== 'string')) return undefined;
  const canonical = `{${members.map((name) => `${JSON.stringify(name)}:${JSON.stringify(jwk[name])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
