import { createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readPrivateKey } from '../client-auth/private-key.js';
import { signingKey, type SigningKey } from '../client-auth/signing-key.js';
import type { ConfigIssue } from '../common/validation.js';
import type { DpopAlgorithm, DpopOption } from './dpop.options.js';

const ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];
const FIELD = 'dpop';

/** A client's DPoP key, ready to sign: its public JWK goes in every proof's header. */
export interface DpopKey extends SigningKey {
  readonly alg: DpopAlgorithm;
  readonly publicJwk: JsonWebKey;
}

/** Reads (or makes) the key once, at boot; a key or algorithm that does not fit names `dpop`. */
export function dpopKey(option: DpopOption): DpopKey | ConfigIssue {
  if (option !== true && (typeof option !== 'object' || option === null)) {
    return { field: FIELD, problem: 'must be true or { key?, algorithm? }' };
  }
  const { key, algorithm } = option === true ? {} : option;
  if (algorithm !== undefined && !ALGORITHMS.includes(algorithm)) {
    return { field: FIELD, problem: `algorithm must be one of ${ALGORITHMS.join(', ')}` };
  }
  let privateKey: KeyObject;
  if (key === undefined) {
    if (algorithm !== undefined && algorithm !== 'ES256') {
      return { field: FIELD, problem: `algorithm ${algorithm} needs a key: only ES256 keys are made at boot` };
    }
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  } else {
    const read = readPrivateKey(key, undefined);
    if ('problem' in read) return { field: FIELD, problem: `key ${read.problem}` };
    privateKey = read.key;
  }
  const signer = signingKey(privateKey, { algorithm });
  if ('problem' in signer) return { field: FIELD, problem: signer.problem.replace('"privateKey"', '"dpop.key"') };
  if (!ALGORITHMS.includes(signer.alg as DpopAlgorithm)) {
    return {
      field: FIELD,
      problem: `key signs ${signer.alg}, which DPoP here does not use (${ALGORITHMS.join(', ')})`,
    };
  }
  return { ...signer, alg: signer.alg as DpopAlgorithm, publicJwk: publicJwk(privateKey) };
}

/** The public half as a JWK, with only the members a verifier needs. */
function publicJwk(key: KeyObject): JsonWebKey {
  const { kty, crv, x, y, n, e } = createPublicKey(key).export({ format: 'jwk' });
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
}
