import { randomUUID } from 'node:crypto';
import type { ClientAssertionFactory, ClientAssertionOptions, PrivateKeyInput } from './client-auth.options.js';
import { compactJws } from './jws.js';
import type { JwsSigner } from './signing-key.js';

/** What one attempt's assertion is made for. */
export interface AssertionRequest {
  readonly client: string;
  readonly clientId: string;
  /** The current secret (`client_secret_jwt` signs with it; it may have been rotated). */
  readonly clientSecret: string;
  /** The key a `privateKey` provider gave for this attempt. */
  readonly privateKey?: PrivateKeyInput;
  readonly tokenUrl: string;
  readonly audience: string | string[];
  /** Epoch ms from the module's clock. */
  readonly now: number;
}

/** Makes the `client_assertion` of one attempt. */
export type AssertionMaker = (request: AssertionRequest) => Promise<string>;

export const DEFAULT_ASSERTION_LIFETIME_SECONDS = 60;

/** The claims the library sets itself; `assertion.claims` may not name them. */
export const RESERVED_CLAIMS: readonly string[] = ['iss', 'sub', 'aud', 'jti', 'iat', 'exp'];

/** RFC 7523 §3 claims: `iss` = `sub` = client id, a fresh `jti` each time, `iat`/`exp` from `now`. */
export function assertionClaims(
  clientId: string,
  audience: string | string[],
  now: number,
  options: ClientAssertionOptions = {},
): Record<string, unknown> {
  const iat = Math.floor(now / 1000);
  const exp = iat + (options.lifetimeSeconds ?? DEFAULT_ASSERTION_LIFETIME_SECONDS);
  return { ...options.claims, iss: clientId, sub: clientId, aud: audience, jti: randomUUID(), iat, exp };
}

/** Assertions signed here, by a private key or (per attempt) by the current secret or a provided key. */
export function signedAssertions(
  signerFor: (request: AssertionRequest) => JwsSigner,
  options: ClientAssertionOptions | undefined,
): AssertionMaker {
  return async (request) => {
    const signer = signerFor(request);
    const header = signer.kid === undefined ? { alg: signer.alg } : { alg: signer.alg, kid: signer.kid };
    const claims = assertionClaims(request.clientId, request.audience, request.now, options);
    return compactJws(header, claims, (input) => signer.sign(input));
  };
}

/** Assertions made elsewhere: the user's function, called once per attempt, its answer sent as is. */
export function externalAssertions(factory: ClientAssertionFactory): AssertionMaker {
  return async ({ client, tokenUrl, audience }) => {
    const assertion = await factory({ client, tokenUrl, audience });
    if (typeof assertion !== 'string' || assertion.trim().length === 0) {
      throw new TypeError('clientAssertion did not return a non-empty string');
    }
    return assertion.trim();
  };
}
