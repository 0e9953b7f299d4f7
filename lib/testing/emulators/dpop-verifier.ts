/**
 * DPoP (RFC 9449) as the `oauth2` emulator checks it: the proof of §4.3 at the token endpoint and
 * at the protected resource (§7), single-use `jti`s and server nonces (§8, §9). `node:crypto` only.
 */
import { createHash, createPublicKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { asRecord } from '../../common/values.js';
import type {
  EmulatorClock,
  EmulatorDpopEndpoint,
  EmulatorDpopError,
  EmulatorDpopProof,
  EmulatorRequest,
  RawReply,
} from './emulator.types.js';
import { decodeJws, JWS_ALGORITHMS, jwkThumbprint, signatureValid } from './jws.js';

/** What `dpop_signing_alg_values_supported` announces, and all the emulator accepts. */
export const DPOP_ALGORITHMS: readonly string[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/** How far `iat` may be from the emulator's clock, either way. */
const IAT_WINDOW_MS = 60_000;

/** JWK members that would make it a private (or secret) key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What the proof must match. */
export interface DpopExpectations {
  endpoint: EmulatorDpopEndpoint;
  method: string;
  /** The request's URL; `htu` must name it, query and fragment aside. */
  url: string;
  /** At the resource: the access token (`ath`) and the thumbprint it is bound to. */
  accessToken?: string;
  jkt?: string;
}

export type DpopVerdict = { ok: true; jkt: string } | { ok: false; error: EmulatorDpopError; description: string };

/** The `DPoP` header decoded as sent (not verified), when it is a JWS whose header holds a usable-looking `jwk`. */
export function readDpopProof(header: string | string[] | undefined): EmulatorDpopProof | undefined {
  const decoded = typeof header === 'string' ? decodeJws(header) : undefined;
  const jwk = asRecord(decoded?.header.jwk);
  const jkt = jwk === undefined ? undefined : jwkThumbprint(jwk);
  if (decoded === undefined || jkt === undefined) return undefined;
  const { header: h, claims: c } = decoded;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const fields: Omit<EmulatorDpopProof, 'jkt'> = {
    typ: text(h.typ),
    alg: text(h.alg),
    jti: text(c.jti),
    htm: text(c.htm),
    htu: text(c.htu),
    iat: typeof c.iat === 'number' ? c.iat : undefined,
    nonce: text(c.nonce),
    ath: text(c.ath),
  };
  const present = Object.entries(fields).filter(([, value]) => value !== undefined);
  return { jkt, ...Object.fromEntries(present) };
}

/** The URL as `htu` compares it: normalised, without query and fragment; undefined when it does not parse. */
function withoutQuery(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  } catch {
    return undefined;
  }
}

/** A `WWW-Authenticate: DPoP` challenge (§7.1); quotes and backslashes are left out of the description. */
export function dpopChallenge(error: EmulatorDpopError, description: string): string {
  const text = description.replace(/["\\]/g, '');
  return `DPoP error="${error}", error_description="${text}", algs="${DPOP_ALGORITHMS.join(' ')}"`;
}

/** The token endpoint's answer to a refused proof (§5): 400 and an RFC 6749 error body. */
export function dpopTokenErrorReply(error: EmulatorDpopError, description: string): RawReply {
  return { status: 400, body: { error, error_description: description } };
}

/** The resource's answer to a refused proof or binding (§7.1): 401 with a `DPoP` challenge. */
export function dpopResourceErrorReply(error: EmulatorDpopError, description: string): RawReply {
  return {
    status: 401,
    body: { error, error_description: description },
    headers: { 'www-authenticate': dpopChallenge(error, description) },
  };
}

/** Whether a reply asks for a nonce (a checked proof or a scripted `use_dpop_nonce`). */
function isNonceDemand(reply: RawReply): boolean {
  return (
    asRecord(reply.body)?.error === 'use_dpop_nonce' ||
    Object.entries(reply.headers ?? {}).some(
      ([name, value]) => name.toLowerCase() === 'www-authenticate' && value.includes('use_dpop_nonce'),
    )
  );
}

function freshNonce(): string {
  return randomBytes(16).toString('base64url');
}

const refuse = (error: EmulatorDpopError, description: string): DpopVerdict => ({ ok: false, error, description });

/** One per emulator: its nonces (one per endpoint) and the `jti`s it has seen, until their `iat` is out of range. */
export class DpopVerifier {
  private readonly nonces: Record<EmulatorDpopEndpoint, string> = { token: freshNonce(), resource: freshNonce() };
  private readonly used = new Map<string, number>();

  constructor(
    readonly requireNonce: boolean,
    private readonly clock: EmulatorClock,
  ) {}

  nonce(endpoint: EmulatorDpopEndpoint): string {
    return this.nonces[endpoint];
  }

  rotate(endpoint?: EmulatorDpopEndpoint): void {
    for (const name of endpoint === undefined ? (['token', 'resource'] as const) : [endpoint]) {
      this.nonces[name] = freshNonce();
    }
  }

  /** The reply with the endpoint's `DPoP-Nonce`: on every answer with `requireNonce`, else on nonce demands. */
  withNonce(reply: RawReply, endpoint: EmulatorDpopEndpoint): RawReply {
    const has = Object.keys(reply.headers ?? {}).some((name) => name.toLowerCase() === 'dpop-nonce');
    if (has || (!this.requireNonce && !isNonceDemand(reply))) return reply;
    return { ...reply, headers: { ...reply.headers, 'dpop-nonce': this.nonces[endpoint] } };
  }

  /** Checks the request's proof; records the outcome on `request.dpop` (when it decoded). */
  verify(request: EmulatorRequest, expected: DpopExpectations): DpopVerdict {
    const verdict = this.check(request.headers.dpop, expected);
    if (request.dpop !== undefined) {
      request.dpop.outcome = verdict.ok ? 'accepted' : verdict.error;
      if (!verdict.ok) request.dpop.problem = verdict.description;
    }
    return verdict;
  }

  private check(header: string | string[] | undefined, expected: DpopExpectations): DpopVerdict {
    if (header === undefined || header === '') return refuse('invalid_dpop_proof', 'the DPoP proof is missing');
    // Node joins repeated headers with ', ', which no compact JWS contains.
    if (typeof header !== 'string' || header.includes(',')) {
      return refuse('invalid_dpop_proof', 'more than one DPoP header');
    }
    const decoded = decodeJws(header);
    if (decoded === undefined) return refuse('invalid_dpop_proof', 'the DPoP proof is not a signed JWT');
    const { header: protectedHeader, claims } = decoded;
    if (protectedHeader.typ !== 'dpop+jwt') return refuse('invalid_dpop_proof', 'DPoP proof typ must be dpop+jwt');
    const alg = typeof protectedHeader.alg === 'string' ? protectedHeader.alg : '';
    const algorithm = DPOP_ALGORITHMS.includes(alg) ? JWS_ALGORITHMS[alg] : undefined;
    if (algorithm === undefined) {
      return refuse('invalid_dpop_proof', `DPoP proof alg ${alg.slice(0, 16) || '(none)'} is not supported`);
    }
    const jwk = asRecord(protectedHeader.jwk);
    if (jwk === undefined) return refuse('invalid_dpop_proof', 'DPoP proof header has no jwk');
    if (PRIVATE_MEMBERS.some((name) => name in jwk)) {
      return refuse('invalid_dpop_proof', 'DPoP proof jwk must be a public key (it has private members)');
    }
    const jkt = jwkThumbprint(jwk);
    const key = jkt === undefined ? undefined : publicKey(jwk);
    if (jkt === undefined || key === undefined) {
      return refuse('invalid_dpop_proof', 'DPoP proof jwk is not a usable EC, OKP or RSA public key');
    }
    if (!algorithm.fits(key)) return refuse('invalid_dpop_proof', `DPoP proof jwk does not fit alg ${alg}`);
    if (!signatureValid(algorithm, key, decoded.input, decoded.signature)) {
      return refuse('invalid_dpop_proof', 'DPoP proof signature is invalid');
    }
    const { jti, htm, htu, iat, nonce, ath } = claims;
    if (typeof jti !== 'string' || jti === '') return refuse('invalid_dpop_proof', 'DPoP proof jti is missing');
    if (typeof htm !== 'string') return refuse('invalid_dpop_proof', 'DPoP proof htm is missing');
    if (typeof htu !== 'string') return refuse('invalid_dpop_proof', 'DPoP proof htu is missing');
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      return refuse('invalid_dpop_proof', 'DPoP proof iat is missing');
    }
    const now = this.clock.now();
    // Spent once signed and well formed, whatever else is wrong: a client must never send a proof twice.
    if (!this.spend(jti, iat, now)) return refuse('invalid_dpop_proof', 'DPoP proof jti has already been used');
    if (htm !== expected.method) return refuse('invalid_dpop_proof', 'DPoP proof htm does not match the method');
    const actual = withoutQuery(htu);
    if (actual === undefined || actual !== withoutQuery(expected.url)) {
      return refuse('invalid_dpop_proof', 'DPoP proof htu does not match the request URL');
    }
    if (Math.abs(iat * 1000 - now) > IAT_WINDOW_MS) {
      return refuse('invalid_dpop_proof', "DPoP proof iat is more than 60 s from the server's time");
    }
    if (expected.accessToken !== undefined) {
      const hash = createHash('sha256').update(expected.accessToken).digest('base64url');
      if (ath !== hash) return refuse('invalid_dpop_proof', 'DPoP proof ath does not match the access token');
      if (jkt !== expected.jkt) return refuse('invalid_token', 'the access token is bound to another key');
    }
    if (this.requireNonce && nonce !== this.nonces[expected.endpoint]) {
      const why = nonce === undefined ? 'DPoP proof has no nonce' : 'DPoP proof nonce is not the current one';
      return refuse('use_dpop_nonce', `${why}; use the DPoP-Nonce of this answer`);
    }
    return { ok: true, jkt };
  }

  /** Records the jti until its `iat` leaves the window; false when it was seen before. */
  private spend(jti: string, iat: number, now: number): boolean {
    for (const [seen, until] of this.used) if (until < now) this.used.delete(seen);
    if (this.used.has(jti)) return false;
    this.used.set(jti, Math.max(iat * 1000, now) + IAT_WINDOW_MS);
    return true;
  }
}

function publicKey(jwk: Record<string, unknown>): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}
