import { createHash, generateKeyPair, sign, type KeyObject } from 'node:crypto';

interface SigningKey {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

// One RSA key per process: generating one costs tens of ms, and every emulator checks its own
// tokens by registry, not by signature, so sharing the key loses nothing.
let signingKey: Promise<SigningKey> | undefined;

function loadSigningKey(): Promise<SigningKey> {
  signingKey ??= new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, publicKey, privateKey) => {
      if (error) return reject(error);
      const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
      const kid = createHash('sha256').update(String(jwk.n)).digest('base64url').slice(0, 16);
      resolve({ privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } });
    });
  });
  return signingKey;
}

/** Signs RS256 JWTs with the process's emulator key. */
export class TokenSigner {
  private constructor(private readonly key: SigningKey) {}

  static async create(): Promise<TokenSigner> {
    return new TokenSigner(await loadSigningKey());
  }

  jwt(claims: Record<string, unknown>): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part({ alg: 'RS256', typ: 'JWT', kid: this.key.jwk.kid })}.${part(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.key.privateKey).toString('base64url')}`;
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [{ ...this.key.jwk }] };
  }
}
