/**
 * DPoP proofs (RFC 9449 §4) made and read by hand with node:crypto, independently of the library
 * and of the emulator: what the specs use to drive servers and to check what a client sent.
 */
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

export type DpopAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';
export const DPOP_ALGS: DpopAlg[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];

export interface DpopKey {
  alg: DpopAlg;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
  /** RFC 7638 thumbprint of the public JWK. */
  jkt: string;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** RFC 7638: SHA-256 over the required members, in lexicographic order, without whitespace. */
export function thumbprint(jwk: JsonWebKey | Record<string, unknown>): string {
  const record = jwk as Record<string, unknown>;
  const members = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] }[
    String(record.kty) as 'EC' | 'OKP' | 'RSA'
  ];
  if (members === undefined) throw new TypeError(`no thumbprint for kty ${String(record.kty)}`);
  const canonical = Object.fromEntries(members.map((name) => [name, record[name]]));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** base64url SHA-256 of an access token: the proof's `ath`. */
export function athOf(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** A fresh key pair of the type each algorithm needs. */
export function dpopKey(alg: DpopAlg): DpopKey {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = publicKey.export({ format: 'jwk' });
  return { alg, privateKey, publicJwk, jkt: thumbprint(publicJwk) };
}

function signature(alg: string, key: KeyObject, data: Buffer): Buffer {
  if (alg === 'EdDSA') return sign(null, data, key);
  if (alg === 'PS256') {
    return sign('sha256', data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  if (alg === 'RS256') return sign('sha256', data, key);
  return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
}

export interface ProofClaims {
  htm: string;
  htu: string;
  /** Epoch seconds; default `now`. */
  iat?: number;
  /** Default a fresh UUID. */
  jti?: string;
  nonce?: string;
  ath?: string;
  [claim: string]: unknown;
}

export interface ProofOptions {
  /** Epoch ms the default `iat` is taken from; default `Date.now()`. */
  now?: number;
  /** Merged over `{ typ: 'dpop+jwt', alg, jwk }` (`jwk: undefined` leaves it out). */
  header?: Record<string, unknown>;
  /** Sign with this key instead of `key.privateKey` (a proof whose signature does not fit its jwk). */
  signWith?: KeyObject;
}

/** A compact JWS DPoP proof, signed by `key` (ECDSA in the JOSE r||s form). */
export function dpopProof(key: DpopKey, claims: ProofClaims, options: ProofOptions = {}): string {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header };
  const body = { jti: randomUUID(), iat: Math.floor((options.now ?? Date.now()) / 1000), ...claims };
  const input = `${b64(header)}.${b64(body)}`;
  const alg = typeof header.alg === 'string' ? header.alg : key.alg;
  return `${input}.${signature(alg, options.signWith ?? key.privateKey, Buffer.from(input)).toString('base64url')}`;
}

export interface ReadProof {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Header and claims of a compact JWS, unverified. */
export function readJws(jwt: string): ReadProof {
  const [header, claims] = jwt.split('.');
  const part = (text: string | undefined) =>
    JSON.parse(Buffer.from(text ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(header), claims: part(claims) };
}

const ALGORITHMS: Record<string, { digest: string | null; kty: string; options?: Record<string, unknown> }> = {
  ES256: { digest: 'sha256', kty: 'EC', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { digest: null, kty: 'OKP' },
  RS256: { digest: 'sha256', kty: 'RSA' },
  PS256: {
    digest: 'sha256',
    kty: 'RSA',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  },
};

/**
 * Verifies a JWS signature with a public JWK, for the algorithms given; `false` for any other
 * algorithm, a key of another type, or a JWK that is not a public key.
 */
export function jwsSignatureValid(jwt: string, jwk: Record<string, unknown>, algorithms: readonly string[]): boolean {
  const parts = jwt.split('.');
  if (parts.length !== 3) return false;
  const { header } = readJws(jwt);
  const alg = String(header.alg);
  const algorithm = ALGORITHMS[alg];
  if (!algorithms.includes(alg) || algorithm === undefined || jwk.kty !== algorithm.kty) return false;
  if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => member in jwk)) return false;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    if (jwk.kty === 'EC' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return false;
    if (jwk.kty === 'OKP' && key.asymmetricKeyType !== 'ed25519') return false;
    const input = Buffer.from(`${parts[0]}.${parts[1]}`);
    return verify(algorithm.digest, input, { key, ...algorithm.options }, Buffer.from(parts[2]!, 'base64url'));
  } catch {
    return false;
  }
}
