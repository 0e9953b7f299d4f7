import { constants, createHmac, sign, type KeyObject } from 'node:crypto';
import type { ConfigIssue } from '../common/validation.js';
import type { ClientAssertionAlgorithm } from './client-auth.options.js';
import { jwkThumbprint } from './jwk-thumbprint.js';

/** Signs JWS inputs for one client; made once at boot. */
export interface JwsSigner {
  readonly alg: ClientAssertionAlgorithm;
  /** The header's `kid`, when there is one. */
  readonly kid?: string;
  sign(input: Buffer): Buffer;
}

/** A `private_key_jwt` signer, with the key's RFC 7638 thumbprint (its identity in cache keys). */
export interface SigningKey extends JwsSigner {
  readonly thumbprint: string;
}

type KeyAlgorithm = Exclude<ClientAssertionAlgorithm, 'HS256'>;

/** The key each algorithm needs, as node names it (`ec` by curve). */
const KEYS_OF: Record<KeyAlgorithm, readonly string[]> = {
  RS256: ['rsa'],
  PS256: ['rsa', 'rsa-pss'],
  ES256: ['ec:prime256v1'],
  ES384: ['ec:secp384r1'],
  EdDSA: ['ed25519'],
};

const DEFAULT_ALGORITHM: Record<string, KeyAlgorithm> = {
  rsa: 'RS256',
  'rsa-pss': 'PS256',
  'ec:prime256v1': 'ES256',
  'ec:secp384r1': 'ES384',
  ed25519: 'EdDSA',
};

/** RFC 7518 §3.3: RSA keys of 2048 bits or more. */
const MIN_RSA_BITS = 2048;

/** `rsa`, `ec:prime256v1`, `ed25519`, …: the key type, with the curve for EC. */
function keyKind(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  return type === 'ec' ? `ec:${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : type;
}

/**
 * Checks that the key and the algorithm fit (the algorithm defaulting by key type) and that the
 * key can sign, once at boot: a mismatch is a configuration error rather than a 400 at run time.
 */
export function signingKey(
  key: KeyObject,
  options: { algorithm?: ClientAssertionAlgorithm; kid?: string },
): SigningKey | ConfigIssue {
  const kind = keyKind(key);
  if (DEFAULT_ALGORITHM[kind] === undefined) {
    const what = kind.startsWith('ec:') ? `an EC key on curve ${kind.slice(3)}` : `a ${kind} key`;
    return { field: 'privateKey', problem: `is ${what}: use RSA, EC P-256, EC P-384 or Ed25519` };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    return { field: 'privateKey', problem: `is a ${bits}-bit RSA key: JWS needs ${MIN_RSA_BITS} bits or more` };
  }
  const alg = options.algorithm ?? DEFAULT_ALGORITHM[kind]!;
  if (alg === 'HS256' || !KEYS_OF[alg].includes(kind)) {
    return { field: 'algorithm', problem: `${alg} does not fit the key in "privateKey" (${kind.replace(':', ' ')})` };
  }
  const signer = { alg, ...(options.kid === undefined ? {} : { kid: options.kid }), sign: keySigner(alg, key) };
  try {
    signer.sign(Buffer.from('probe'));
  } catch {
    return { field: 'privateKey', problem: `cannot sign with ${alg} (its parameters restrict it)` };
  }
  return { ...signer, thumbprint: jwkThumbprint(key) };
}

function keySigner(alg: KeyAlgorithm, key: KeyObject): (input: Buffer) => Buffer {
  switch (alg) {
    case 'RS256':
      return (input) => sign('sha256', input, key);
    case 'PS256':
      return (input) => sign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    // JOSE wants ECDSA signatures as r‖s (IEEE P1363), not node's default DER.
    case 'ES256':
      return (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES384':
      return (input) => sign('sha384', input, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return (input) => sign(null, input, key);
  }
}

/**
 * `client_secret_jwt`: HS256 keyed by the client secret. The secret is read at each attempt (it
 * may be rotated), so this signs with the one it is given.
 */
export function hmacSigner(secret: string, kid: string | undefined): JwsSigner {
  return {
    alg: 'HS256',
    ...(kid === undefined ? {} : { kid }),
    sign: (input) => createHmac('sha256', secret).update(input).digest(),
  };
}
