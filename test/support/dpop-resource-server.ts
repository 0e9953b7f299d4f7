import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { send } from './dpop-http.js';
import { athOf, jwsSignatureValid, readJws, thumbprint, type ReadProof } from './dpop-proofs.js';

/**
 * A protected resource that checks every request as a strict API would (RFC 9449 §7):
 * `Authorization: DPoP <token>` with exactly one `DPoP` proof whose signature, `typ`, `alg`, public
 * `jwk`, `htm`, `htu` (this server's scheme, host, port and path; no query), `iat` (±60 s of its
 * clock), `ath`, unused `jti` and, when demanded, `nonce` are right, and whose key is the one the
 * token is bound to (`cnf.jkt`). A token that is not bound is accepted as `Bearer` only. Every route
 * answers `{ ok, scheme, method, path, jkt? }`, except `/redirect/<rest>`, which after the same checks
 * answers 307 to `/<rest>` (query kept). Each request is recorded with its decoded proof.
 */

/** What the API knows of an access token after checking it (signature, issuer, audience, expiry). */
export interface AccessTokenInfo {
  /** `cnf.jkt`: the thumbprint of the key a DPoP-bound token is bound to. */
  jkt?: string;
  clientId?: string;
}

/** Checks an access token: its facts, or undefined when it is not one the API accepts. */
export type AccessTokenCheck = (token: string) => Promise<AccessTokenInfo | undefined>;

export interface ResourceCall {
  method: string;
  /** The request target, query included. */
  url: string;
  path: string;
  /** The Authorization scheme as sent (`DPoP`, `Bearer`, …), absent without the header. */
  scheme?: string;
  token?: string;
  /** How many `DPoP` headers arrived, and the proof decoded (the first one). */
  proofCount: number;
  proof?: ReadProof;
  body: string;
  status: number;
  /** The `error` of a refusal, and its description. */
  error?: string;
  problem?: string;
}

export interface DpopResourceServer {
  url: string;
  calls: ResourceCall[];
  /** The nonce proofs must carry (with `requireNonce`, or after a demand). */
  readonly nonce: string;
  /** The next `times` requests that pass every other check get `401 use_dpop_nonce` with a fresh nonce. */
  demandNonce(times?: number): void;
  close(): Promise<void>;
}

export interface DpopResourceServerOptions {
  checkToken: AccessTokenCheck;
  /** Demand the current nonce in every proof. Default false. */
  requireNonce?: boolean;
  /** The clock `iat` is compared with (epoch ms). Default `Date.now`. */
  clock?: { now(): number };
  /** Proof algorithms accepted. Default ES256, EdDSA, RS256, PS256. */
  algorithms?: readonly string[];
}

const IAT_WINDOW_SECONDS = 60;

class Refusal {
  constructor(
    readonly error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_request',
    readonly problem: string,
    readonly scheme: 'DPoP' | 'Bearer' = 'DPoP',
  ) {}
}

export async function startDpopResourceServer(options: DpopResourceServerOptions): Promise<DpopResourceServer> {
  const { checkToken, requireNonce = false, clock = { now: () => Date.now() } } = options;
  const algorithms = options.algorithms ?? ['ES256', 'EdDSA', 'RS256', 'PS256'];
  const calls: ResourceCall[] = [];
  const usedJtis = new Set<string>();
  const sockets = new Set<Socket>();
  let nonce = randomBytes(16).toString('base64url');
  let nonceIssued = requireNonce;
  let demands = 0;
  let origin = '';

  /** Checks the request; the facts of its token, or a refusal. */
  async function check(req: IncomingMessage, call: ResourceCall): Promise<{ jkt?: string } | Refusal> {
    const match = /^(\S+) +([A-Za-z0-9\-._~+/]+=*)$/.exec(req.headers.authorization ?? '');
    if (!match) return new Refusal('invalid_token', 'no access token', 'Bearer');
    const [, scheme, token] = match as unknown as [string, string, string];
    call.scheme = scheme;
    call.token = token;
    const info = await checkToken(token);
    if (scheme.toLowerCase() === 'bearer') {
      if (info === undefined) return new Refusal('invalid_token', 'unknown or expired token', 'Bearer');
      if (info.jkt !== undefined) return new Refusal('invalid_token', 'a DPoP-bound token sent as Bearer', 'Bearer');
      return {};
    }
    if (scheme !== 'DPoP') return new Refusal('invalid_request', `unknown scheme ${scheme}`);
    if (info === undefined) return new Refusal('invalid_token', 'unknown or expired token');
    if (info.jkt === undefined) return new Refusal('invalid_token', 'the token is not DPoP-bound');
    const proofs = req.headersDistinct.dpop ?? [];
    if (proofs.length !== 1) return new Refusal('invalid_dpop_proof', `${proofs.length} DPoP headers`);
    const jwt = proofs[0]!;
    let proof: ReadProof;
    try {
      proof = readJws(jwt);
    } catch {
      return new Refusal('invalid_dpop_proof', 'the proof is not a JWS');
    }
    const { header, claims } = proof;
    if (header.typ !== 'dpop+jwt') return new Refusal('invalid_dpop_proof', 'typ');
    const jwk = header.jwk as Record<string, unknown> | undefined;
    if (typeof jwk !== 'object' || jwk === null) return new Refusal('invalid_dpop_proof', 'no jwk');
    if (!jwsSignatureValid(jwt, jwk, algorithms)) return new Refusal('invalid_dpop_proof', 'signature, alg or jwk');
    if (typeof claims.jti !== 'string' || claims.jti.length < 8) return new Refusal('invalid_dpop_proof', 'jti');
    if (usedJtis.has(claims.jti)) return new Refusal('invalid_dpop_proof', 'jti reused');
    usedJtis.add(claims.jti);
    if (claims.htm !== req.method) return new Refusal('invalid_dpop_proof', 'htm');
    const expected = new URL(req.url ?? '/', origin);
    expected.search = '';
    let htu: URL;
    try {
      htu = new URL(String(claims.htu));
    } catch {
      return new Refusal('invalid_dpop_proof', 'htu is not a URL');
    }
    // §4.3: the query and fragment are left out of htu; a client that sends them is not strict.
    if (htu.search !== '' || htu.hash !== '' || htu.href !== expected.href) {
      return new Refusal('invalid_dpop_proof', `htu ${htu.href} is not ${expected.href}`);
    }
    const now = clock.now() / 1000;
    if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > IAT_WINDOW_SECONDS) {
      return new Refusal('invalid_dpop_proof', 'iat');
    }
    if (claims.ath !== athOf(token)) return new Refusal('invalid_dpop_proof', 'ath');
    if (thumbprint(jwk) !== info.jkt) return new Refusal('invalid_token', 'cnf.jkt is not the proof key');
    if ((requireNonce || claims.nonce !== undefined) && claims.nonce !== nonce) {
      return new Refusal('use_dpop_nonce', claims.nonce === undefined ? 'no nonce' : 'stale nonce');
    }
    if (demands > 0) {
      demands--;
      nonce = randomBytes(16).toString('base64url');
      return new Refusal('use_dpop_nonce', 'nonce demanded');
    }
    return { jkt: info.jkt };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const proofs = req.headersDistinct.dpop ?? [];
    let proof: ReadProof | undefined;
    try {
      proof = proofs[0] === undefined ? undefined : readJws(proofs[0]);
    } catch {
      proof = undefined;
    }
    const call: ResourceCall = {
      method: req.method ?? '',
      url: req.url ?? '/',
      path,
      proofCount: proofs.length,
      ...(proof === undefined ? {} : { proof }),
      body: Buffer.concat(chunks).toString('utf8'),
      status: 0,
    };
    calls.push(call);
    const outcome = await check(req, call);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (outcome instanceof Refusal && outcome.error === 'use_dpop_nonce') nonceIssued = true;
    if (nonceIssued) headers['dpop-nonce'] = nonce;
    if (outcome instanceof Refusal) {
      const challenge = `${outcome.scheme} error="${outcome.error}", error_description="${outcome.problem}"`;
      headers['www-authenticate'] =
        outcome.scheme === 'DPoP' ? `${challenge}, algs="${algorithms.join(' ')}"` : challenge;
      Object.assign(call, { status: 401, error: outcome.error, problem: outcome.problem });
      res.writeHead(401, headers).end(JSON.stringify({ error: outcome.error, error_description: outcome.problem }));
      return;
    }
    if (path.startsWith('/redirect/')) {
      call.status = 307;
      const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
      res.writeHead(307, { ...headers, location: `${path.slice('/redirect'.length)}${query}` }).end();
      return;
    }
    call.status = 200;
    const answer = { ok: true, scheme: call.scheme, method: call.method, path, body: call.body, jkt: outcome.jkt };
    res.writeHead(200, headers).end(JSON.stringify(answer));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(598).end(String(error));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    calls,
    get nonce() {
      return nonce;
    },
    demandNonce: (times = 1) => void (demands = times),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Access tokens that are RS256 JWTs (`typ: at+jwt`, RFC 9068) from `issuer` for `audience`, checked
 * against the issuer's JWKS (fetched once): signature, `iss`, `aud`, `exp`. Gives `cnf.jkt`.
 */
export function jwtAccessTokens(options: {
  issuer: string;
  jwksUrl: string;
  audience: string;
  clock?: { now(): number };
}): AccessTokenCheck {
  const clock = options.clock ?? { now: () => Date.now() };
  let jwks: Promise<Array<Record<string, unknown>>> | undefined;
  return async (token) => {
    jwks ??= send(options.jwksUrl).then((answer) => answer.json.keys as Array<Record<string, unknown>>);
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      ({ header, claims } = readJws(token));
    } catch {
      return undefined;
    }
    const key = (await jwks).find((k) => k.kid === header.kid);
    if (header.typ !== 'at+jwt' || key === undefined || !jwsSignatureValid(token, key, ['RS256'])) return undefined;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== options.issuer || !audiences.includes(options.audience)) return undefined;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= clock.now()) return undefined;
    const cnf = claims.cnf as { jkt?: unknown } | undefined;
    return {
      ...(typeof cnf?.jkt === 'string' ? { jkt: cnf.jkt } : {}),
      ...(typeof claims.client_id === 'string' ? { clientId: claims.client_id } : {}),
    };
  };
}
