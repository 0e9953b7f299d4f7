import { createPrivateKey, createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import type { ConfigIssue } from '../common/validation.js';
import type { PrivateKeyInput } from './client-auth.options.js';

/** A private key read at boot, and the `kid` a private JWK carried. */
export interface ReadPrivateKey {
  readonly key: KeyObject;
  readonly jwkKid?: string;
}

const FIELD = 'privateKey';
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

/**
 * Reads `privateKey` once, at boot. Problems name the field and say what is wrong with the key in
 * general terms; node's own messages are not kept (they are vague, and a key is never quoted).
 */
export function readPrivateKey(input: PrivateKeyInput, passphrase: string | undefined): ReadPrivateKey | ConfigIssue {
  if (input instanceof KeyObject) return fromKeyObject(input);
  if (typeof input === 'string' || Buffer.isBuffer(input)) return fromPem(input, passphrase);
  if (typeof input === 'object' && input !== null) return fromJwk(input);
  return { field: FIELD, problem: 'must be a PEM string, a KeyObject or a private JWK' };
}

function fromKeyObject(key: KeyObject): ReadPrivateKey | ConfigIssue {
  if (key.type === 'private') return { key };
  return { field: FIELD, problem: `is a ${key.type} KeyObject: the private key is needed` };
}

function fromPem(pem: string | Buffer, passphrase: string | undefined): ReadPrivateKey | ConfigIssue {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  const encrypted = ENCRYPTED_PEM.test(text);
  if (encrypted && passphrase === undefined) {
    return { field: FIELD, problem: 'is an encrypted PEM: set "privateKeyPassphrase", or give the key unencrypted' };
  }
  try {
    return { key: createPrivateKey(encrypted ? { key: text, passphrase } : { key: text }) };
  } catch {
    if (encrypted) return { field: 'privateKeyPassphrase', problem: 'does not decrypt the PEM in "privateKey"' };
    if (isPublicKey(text)) {
      return { field: FIELD, problem: 'holds a public key or a certificate: the private key is needed' };
    }
    return { field: FIELD, problem: 'is not a PEM private key (PKCS#8, PKCS#1 or SEC1)' };
  }
}

function isPublicKey(pem: string): boolean {
  try {
    createPublicKey(pem);
    return true;
  } catch {
    return false;
  }
}

function fromJwk(jwk: JsonWebKey): ReadPrivateKey | ConfigIssue {
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') {
    return { field: FIELD, problem: 'is a JWK whose kty is not RSA, EC or OKP' };
  }
  if (typeof jwk.d !== 'string')
    return { field: FIELD, problem: 'is a public JWK (no "d"): the private key is needed' };
  const kid = jwk.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
    return { field: FIELD, problem: 'is a JWK whose kid is not a non-empty string' };
  }
  try {
    return { key: createPrivateKey({ key: jwk, format: 'jwk' }), ...(kid === undefined ? {} : { jwkKid: kid }) };
  } catch {
    return { field: FIELD, problem: `is a JWK that does not hold a valid ${jwk.kty} private key` };
  }
}
