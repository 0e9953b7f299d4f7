import { createHash, randomUUID } from 'node:crypto';
import { base64urlJson } from '../client-auth/jws.js';
import type { LibraryClock } from '../common/system-clock.js';
import type { DpopKey } from './dpop-key.js';
import type { DpopNonces } from './dpop-nonces.js';

/**
 * Makes a client's DPoP proofs (RFC 9449 §4.2): one per request and per redirect hop, each with a
 * fresh `jti`, `iat` from the module's clock, and the nonce last seen from the request's origin.
 */
export class DpopProofs {
  /** The header is the same for every proof of this key: encoded once. */
  private readonly header: string;

  constructor(
    readonly key: DpopKey,
    private readonly nonces: DpopNonces,
    private readonly clock: LibraryClock,
  ) {
    this.header = base64urlJson({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk });
  }

  /** A proof for `method url`; with `accessToken`, bound to it (`ath`). */
  proof(method: string, url: string, accessToken?: string): string {
    const target = new URL(url);
    const nonce = this.nonces.of(target.origin);
    const claims = {
      jti: randomUUID(),
      htm: method.toUpperCase(),
      htu: target.origin + target.pathname,
      iat: Math.floor(this.clock.now() / 1000),
      ...(nonce === undefined ? {} : { nonce }),
      ...(accessToken === undefined ? {} : { ath: createHash('sha256').update(accessToken).digest('base64url') }),
    };
    const input = `${this.header}.${base64urlJson(claims)}`;
    return `${input}.${this.key.sign(Buffer.from(input, 'ascii')).toString('base64url')}`;
  }

  /** Keeps the `DPoP-Nonce` an answer from `url` carried, for the next proof to that origin. */
  sawAnswer(url: string, nonce: string | null | undefined): void {
    if (typeof nonce === 'string' && nonce.length > 0) this.nonces.remember(new URL(url).origin, nonce);
  }
}
