import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { bootError } from '../support/boot-error.js';

/** A DPoP key or algorithm that does not fit is an `OAuthConfigError` at boot naming the client and `dpop`. */
const client = (dpop: unknown) => ({
  strategy: 'oauth2',
  tokenUrl: 'https://as.example/token',
  clientId: 'id',
  clientSecret: 'secret',
  dpop,
});

const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });

describe('dpop options at boot', () => {
  it.each([
    ['not true or an object', 'yes', 'must be true or { key?, algorithm? }'],
    ['an algorithm DPoP does not use', { algorithm: 'HS256' }, 'algorithm must be one of ES256, EdDSA, RS256, PS256'],
    ['an algorithm without a key that is not ES256', { algorithm: 'EdDSA' }, 'algorithm EdDSA needs a key'],
    ['a public key', { key: ec('P-256').publicKey }, 'key is a public KeyObject'],
    ['an unsupported curve', { key: ec('secp256k1').privateKey }, 'secp256k1'],
    [
      'an algorithm that does not fit the key',
      { key: ec('P-256').privateKey, algorithm: 'RS256' },
      'RS256 does not fit',
    ],
    [
      'a P-384 key (ES384 is not a DPoP algorithm here)',
      { key: ec('P-384').privateKey },
      'which DPoP here does not use',
    ],
  ])('%s', async (_what, dpop, problem) => {
    const error = await bootError(client(dpop));
    expect(error.issues).toEqual([{ client: 'billing', field: 'dpop', problem: expect.stringContaining(problem) }]);
    expect(error.message).toContain('OAuth client "billing": option "dpop"');
  });

  it('true, an Ed25519 key, an RSA key with PS256: all boot', async () => {
    const { bootOAuth } = await import('../support/boot.js');
    for (const dpop of [
      true,
      { key: generateKeyPairSync('ed25519').privateKey },
      { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, algorithm: 'PS256' },
    ]) {
      const app = await bootOAuth({ api: client(dpop) as never });
      await app.close();
    }
  });
});
