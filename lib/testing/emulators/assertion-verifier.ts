/**
 * Checks RFC 7523 client assertions (`private_key_jwt`, `client_secret_jwt`) as an authorization
 * server does. `node:crypto` only: the testing entry ships in the package and must load from
 * CommonJS, where an ESM-only JOSE library would not.
 */
import { createHmac, createPublicKey, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeJws, JWS_ALGORITHMS, signatureValid, type DecodedJws } from './jws.js';

type AssertionMethod = 'private_key_jwt' | 'client_secret_jwt';

/** What the metadata announces as `token_endpoint_auth_signing_alg_values_supported`. */
export const ASSERTION_ALGORITHMS = { private_key_jwt: Object.keys(JWS_ALGORITHMS), client_secret_jwt: ['HS256'] };

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AssertionExpectations {
  clientId: string;
  /** The secrets an HS256 assertion may be keyed by (current and, in a grace period, previous). */
  secrets: readonly string[];
  /** `aud` must contain one of these: the token URL or the issuer. */
  audiences: readonly string[];
  methods: readonly string[];
  now: number;
}

export type AssertionResult =
  { ok: true; method: AssertionMethod } | { ok: false; status: 400 | 401; description: string };

interface PublicKey {
  kid?: string;
  alg?: string;
  key: KeyObject;
}

const refuse = (description: string, status: 400 | 401 = 401): AssertionResult => ({ ok: false, status, description });

/** One per emulator: it remembers the `jti`s it accepted until they expire. */
export class AssertionVerifier {
  private readonly keys: PublicKey[];
  private readonly used = new Map<string, number>();

  constructor(
    jwks: { keys: JsonWebKey[] } | undefined,
    private readonly maxLifetimeSeconds = 300,
  ) {
    this.keys = (jwks?.keys ?? []).map((jwk, index) => {
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        return { kid: stringOr(jwk.kid), alg: stringOr(jwk.alg), key };
      } catch (cause) {
        throw new TypeError(`startEmulator: jwks.keys[${index}] is not a usable JSON Web Key`, { cause });
      }
    });
  }

  verify(assertion: string, expected: AssertionExpectations): AssertionResult {
    const decoded = decodeJws(assertion);
    if (decoded === undefined) return refuse('client_assertion is not a signed JWT');
    const alg = decoded.header.alg;
    const method: AssertionMethod = alg === 'HS256' ? 'client_secret_jwt' : 'private_key_jwt';
    if (!expected.methods.includes(method)) return refuse(`${method} is not allowed for this client`);
    const signed =
      method === 'client_secret_jwt' ? this.hmacMatches(decoded, expected.secrets) : this.signatureMatches(decoded);
    if (signed !== true) return refuse(signed || 'client_assertion signature is invalid');
    const claimProblem = this.claimProblem(decoded.claims, expected);
    if (claimProblem !== undefined) return refuse(claimProblem);
    return this.spend(decoded.claims.jti as string, decoded.claims.exp as number, expected.now)
      ? { ok: true, method }
      : refuse('client_assertion jti has already been used', 400);
  }

  private hmacMatches({ input, signature }: DecodedJws, secrets: readonly string[]): true | string {
    return secrets.some((secret) => sameBytes(createHmac('sha256', secret).update(input).digest(), signature)) || '';
  }

  /** `true`, or why not ('' for a plain bad signature). */
  private signatureMatches({ header, input, signature }: DecodedJws): true | string {
    const alg = typeof header.alg === 'string' ? header.alg : '';
    const algorithm = JWS_ALGORITHMS[alg];
    if (algorithm === undefined) return `client_assertion alg ${JSON.stringify(alg.slice(0, 16))} is not supported`;
    const kid = header.kid;
    const candidates = this.keys.filter(
      (k) => (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg) && algorithm.fits(k.key),
    );
    if (candidates.length === 0) return 'no registered key matches the client_assertion kid and alg';
    return candidates.some(({ key }) => signatureValid(algorithm, key, input, signature)) || '';
  }

  private claimProblem(claims: Record<string, unknown>, expected: AssertionExpectations): string | undefined {
    if (claims.iss !== expected.clientId) return 'client_assertion iss must be the client_id';
    if (claims.sub !== expected.clientId) return 'client_assertion sub must be the client_id';
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((aud) => typeof aud === 'string' && expected.audiences.includes(aud))) {
      return 'client_assertion aud must contain the token endpoint URL or the issuer';
    }
    if (typeof claims.exp !== 'number') return 'client_assertion exp is missing';
    if (claims.exp * 1000 <= expected.now) return 'client_assertion has expired';
    if (claims.exp * 1000 - expected.now > this.maxLifetimeSeconds * 1000) {
      return `client_assertion exp is more than ${this.maxLifetimeSeconds} s away`;
    }
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 > expected.now) return 'client_assertion is not valid yet';
    if (typeof claims.jti !== 'string' || claims.jti === '') return 'client_assertion jti is missing';
    return undefined;
  }

  /** Records the jti until its assertion expires; false when it was already used. */
  private spend(jti: string, exp: number, now: number): boolean {
    for (const [seen, until] of this.used) if (until <= now) this.used.delete(seen);
    if (this.used.has(jti)) return false;
    this.used.set(jti, exp * 1000);
    return true;
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
