import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { OAuthFetch } from '../../lib/index.js';
import { FakeClock, startEmulator, type Emulator, type OAuth2EmulatorOptions } from '../../lib/testing/index.js';
import { bootHttp } from '../http/http-support.js';
import { closeAfterEach } from '../support/cleanup.js';
import { FORM, send, type RawAnswer } from '../support/dpop-http.js';
import {
  athOf,
  DPOP_ALGS,
  dpopKey,
  dpopProof,
  readJws,
  type DpopAlg,
  type DpopKey,
  type ProofClaims,
  type ProofOptions,
} from '../support/dpop-proofs.js';

/**
 * Issue 15 item 7: the `oauth2` emulator with `dpop`, driven with proofs made by hand, so that it
 * is known to refuse what a real server refuses before the library's own tests lean on it.
 */
const cleanup = closeAfterEach();
const clock = new FakeClock();
const nowSeconds = () => Math.floor(clock.now() / 1000);

let keys: Record<DpopAlg, DpopKey>;
let other: DpopKey;
beforeAll(() => {
  keys = Object.fromEntries(DPOP_ALGS.map((alg) => [alg, dpopKey(alg)])) as Record<DpopAlg, DpopKey>;
  other = dpopKey('ES256');
});

async function emulator(options: OAuth2EmulatorOptions = { dpop: true }): Promise<Emulator<'oauth2'>> {
  return cleanup.track(await startEmulator('oauth2', { clock, ...options }));
}

const BASIC = `Basic ${Buffer.from('test-client:test-secret').toString('base64')}`;

/** A client-credentials token request with the given DPoP header (none when `undefined`). */
function tokenRequest(e: Emulator, proof: string | undefined, url = e.tokenUrl): Promise<RawAnswer> {
  return send(url, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': FORM, ...(proof === undefined ? {} : { dpop: proof }) },
    body: 'grant_type=client_credentials',
  });
}

function tokenProof(e: Emulator, key: DpopKey, claims: Partial<ProofClaims> = {}, options: ProofOptions = {}) {
  return dpopProof(key, { htm: 'POST', htu: e.tokenUrl, ...claims }, { now: clock.now(), ...options });
}

/** A token bound to `key`, from a good proof. */
async function boundToken(e: Emulator, key: DpopKey, nonce?: string): Promise<string> {
  const answer = await tokenRequest(e, tokenProof(e, key, nonce === undefined ? {} : { nonce }));
  expect(answer.status).toBe(200);
  return answer.json.access_token as string;
}

/** A call to the protected resource with `Authorization: <scheme> <token>` and the proof, if any. */
function resourceCall(
  e: Emulator,
  token: string,
  proof: string | undefined,
  { scheme = 'DPoP', method = 'GET', url = e.resourceUrl }: { scheme?: string; method?: string; url?: string } = {},
): Promise<RawAnswer> {
  return send(url, {
    method,
    headers: { authorization: `${scheme} ${token}`, ...(proof === undefined ? {} : { dpop: proof }) },
  });
}

function resourceProof(e: Emulator, key: DpopKey, token: string, claims: Partial<ProofClaims> = {}) {
  return dpopProof(key, { htm: 'GET', htu: e.resourceUrl, ath: athOf(token), ...claims }, { now: clock.now() });
}

const refused = (error: string, problem: RegExp) => ({
  status: 400,
  json: { error, error_description: expect.stringMatching(problem) },
});
const challenged = (answer: RawAnswer, error: string) => {
  expect(answer.status).toBe(401);
  expect(answer.headers['www-authenticate']).toMatch(new RegExp(`^DPoP error="${error}"`));
  expect(answer.json.error).toBe(error);
};

describe('oauth2 emulator with dpop: the token endpoint', () => {
  it.each(DPOP_ALGS)('%s: a good proof gets a DPoP token bound to the key thumbprint', async (alg) => {
    const e = await emulator();
    const proof = tokenProof(e, keys[alg]);
    const answer = await tokenRequest(e, proof);
    expect(answer).toMatchObject({ status: 200, json: { token_type: 'DPoP', expires_in: 3600 } });
    expect(e.issuedTokens[0]).toMatchObject({ accessToken: answer.json.access_token, jkt: keys[alg].jkt });
    const { claims } = readJws(proof);
    expect(e.tokenRequests[0]!.dpop).toEqual({
      typ: 'dpop+jwt',
      alg,
      jkt: keys[alg].jkt,
      jti: claims.jti,
      htm: 'POST',
      htu: e.tokenUrl,
      iat: nowSeconds(),
      outcome: 'accepted',
    });
  });

  it('a JWT access token carries cnf.jkt; the metadata and clientOptions() announce DPoP', async () => {
    const e = await emulator({ dpop: true, tokenFormat: 'jwt' });
    const token = await boundToken(e, keys.EdDSA);
    expect(readJws(token).claims.cnf).toEqual({ jkt: keys.EdDSA.jkt });
    const metadata = await send(`${e.issuer}/.well-known/openid-configuration`);
    expect(metadata.json.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'RS256', 'PS256']);
    expect(e.clientOptions()).toMatchObject({ strategy: 'oauth2', dpop: true });
    expect((await emulator({})).clientOptions()).not.toHaveProperty('dpop');
  });

  it('a missing or malformed proof is 400 invalid_dpop_proof, and no token', async () => {
    const e = await emulator();
    expect(await tokenRequest(e, undefined)).toMatchObject(refused('invalid_dpop_proof', /missing/));
    expect(await tokenRequest(e, 'not-a-jws')).toMatchObject(refused('invalid_dpop_proof', /not a signed JWT/));
    expect(e.issuedTokens).toHaveLength(0);
  });

  it('refuses a bad signature, a wrong typ or alg, a private jwk and no jwk', async () => {
    const e = await emulator();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = keys.EdDSA;
    const cases: Array<[string, RegExp]> = [
      [tokenProof(e, keys.ES256, {}, { signWith: privateKey }), /signature is invalid/],
      [tokenProof(e, keys.RS256, {}, { signWith: keys.PS256.privateKey }), /signature is invalid/],
      [tokenProof(e, keys.ES256, {}, { header: { typ: 'JWT' } }), /typ must be dpop\+jwt/],
      [tokenProof(e, keys.ES256, {}, { header: { alg: 'ES384' } }), /alg ES384 is not supported/],
      [tokenProof(e, keys.ES256, {}, { header: { alg: 'HS256' } }), /alg HS256 is not supported/],
      // An Ed25519 key claimed as ES256: the key does not fit the algorithm (no algorithm confusion).
      [tokenProof(e, ed, {}, { header: { alg: 'ES256' }, signWith: keys.ES256.privateKey }), /does not fit/],
      [
        tokenProof(e, keys.ES256, {}, { header: { jwk: keys.ES256.privateKey.export({ format: 'jwk' }) } }),
        /private members/,
      ],
      [tokenProof(e, keys.ES256, {}, { header: { jwk: undefined } }), /no jwk/],
    ];
    for (const [proof, problem] of cases) {
      expect(await tokenRequest(e, proof)).toMatchObject(refused('invalid_dpop_proof', problem));
    }
    expect(e.tokenRequests[0]!.dpop).toMatchObject({
      outcome: 'invalid_dpop_proof',
      problem: 'DPoP proof signature is invalid',
    });
    expect(e.issuedTokens).toHaveLength(0);
  });

  it('refuses a wrong htm or htu; htu ignores a query and a fragment', async () => {
    const e = await emulator();
    const key = keys.ES256;
    expect(await tokenRequest(e, tokenProof(e, key, { htm: 'GET' }))).toMatchObject(
      refused('invalid_dpop_proof', /htm/),
    );
    expect(await tokenRequest(e, tokenProof(e, key, { htm: 'post' }))).toMatchObject(
      refused('invalid_dpop_proof', /htm/),
    );
    expect(await tokenRequest(e, tokenProof(e, key, { htu: e.resourceUrl }))).toMatchObject(
      refused('invalid_dpop_proof', /htu/),
    );
    expect(await tokenRequest(e, tokenProof(e, key, { htu: e.tokenUrl.replace('http:', 'https:') }))).toMatchObject(
      refused('invalid_dpop_proof', /htu/),
    );
    expect(await tokenRequest(e, tokenProof(e, key, { htu: `${e.tokenUrl}?a=1#f` }))).toMatchObject({ status: 200 });
    expect(await tokenRequest(e, tokenProof(e, key), `${e.tokenUrl}?b=2`)).toMatchObject({ status: 200 });
  });

  it("iat must be within 60 s of the emulator's clock, either way", async () => {
    const e = await emulator();
    const key = keys.EdDSA;
    for (const offset of [-61, 61]) {
      expect(await tokenRequest(e, tokenProof(e, key, { iat: nowSeconds() + offset }))).toMatchObject(
        refused('invalid_dpop_proof', /iat/),
      );
    }
    for (const offset of [-60, 60]) {
      expect(await tokenRequest(e, tokenProof(e, key, { iat: nowSeconds() + offset }))).toMatchObject({ status: 200 });
    }
    // The emulator follows the FakeClock: a proof made an hour ago is stale now.
    const proof = tokenProof(e, key);
    clock.advance(3600_000);
    expect(await tokenRequest(e, proof)).toMatchObject(refused('invalid_dpop_proof', /iat/));
  });

  it('a jti is good once: a replayed proof is 400 invalid_dpop_proof', async () => {
    const e = await emulator();
    const proof = tokenProof(e, keys.ES256);
    expect((await tokenRequest(e, proof)).status).toBe(200);
    expect(await tokenRequest(e, proof)).toMatchObject(refused('invalid_dpop_proof', /jti has already been used/));
    expect(
      await tokenRequest(e, tokenProof(e, keys.ES256, { jti: readJws(proof).claims.jti as string })),
    ).toMatchObject(refused('invalid_dpop_proof', /jti/));
    expect((await tokenRequest(e, tokenProof(e, keys.ES256))).status).toBe(200);
  });

  it('requireNonce: 400 use_dpop_nonce with a DPoP-Nonce, then a token with it; every answer has the nonce', async () => {
    const e = await emulator({ dpop: { requireNonce: true } });
    const key = keys.ES256;
    const first = await tokenRequest(e, tokenProof(e, key));
    expect(first).toMatchObject(refused('use_dpop_nonce', /no nonce/));
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toBe(e.dpopNonce('token'));
    expect(e.dpopNonce('resource')).not.toBe(nonce);
    const second = await tokenRequest(e, tokenProof(e, key, { nonce }));
    expect(second).toMatchObject({ status: 200, json: { token_type: 'DPoP' }, headers: { 'dpop-nonce': nonce } });
    expect(e.tokenRequests.map((r) => [r.dpop?.nonce, r.dpop?.outcome])).toEqual([
      [undefined, 'use_dpop_nonce'],
      [nonce, 'accepted'],
    ]);
    // A wrong nonce, and an old one after rotation, get the current one.
    expect(await tokenRequest(e, tokenProof(e, key, { nonce: 'made-up' }))).toMatchObject(
      refused('use_dpop_nonce', /not the current one/),
    );
    e.rotateDpopNonce('token');
    const stale = await tokenRequest(e, tokenProof(e, key, { nonce }));
    expect(stale).toMatchObject(refused('use_dpop_nonce', /not the current one/));
    expect(stale.headers['dpop-nonce']).toBe(e.dpopNonce('token'));
    expect(stale.headers['dpop-nonce']).not.toBe(nonce);
    // Other errors carry it too.
    const bad = await tokenRequest(e, undefined);
    expect(bad).toMatchObject({ status: 400, headers: { 'dpop-nonce': e.dpopNonce('token') } });
  });

  it('without requireNonce, no DPoP-Nonce, except on a scripted use_dpop_nonce', async () => {
    const e = await emulator();
    const ok = await tokenRequest(e, tokenProof(e, keys.ES256));
    expect(ok.headers['dpop-nonce']).toBeUndefined();
    e.failNext('use_dpop_nonce');
    const scripted = await tokenRequest(e, tokenProof(e, keys.ES256));
    expect(scripted).toMatchObject({ status: 400, json: { error: 'use_dpop_nonce' } });
    expect(scripted.headers['dpop-nonce']).toBe(e.dpopNonce('token'));
    expect((await tokenRequest(e, tokenProof(e, keys.ES256, { nonce: e.dpopNonce() }))).status).toBe(200);
  });

  it('an emulator without dpop ignores the proof and issues a Bearer token (recording the proof)', async () => {
    const e = await emulator({});
    const answer = await tokenRequest(e, tokenProof(e, keys.ES256));
    expect(answer.json.token_type).toBe('Bearer');
    expect(e.issuedTokens[0]!.jkt).toBeUndefined();
    expect(e.tokenRequests[0]!.dpop).toMatchObject({ jkt: keys.ES256.jkt, htm: 'POST' });
    expect(e.tokenRequests[0]!.dpop).not.toHaveProperty('outcome');
    expect(e.dpopNonce()).toBeUndefined();
    const token = answer.json.access_token as string;
    expect((await resourceCall(e, token, undefined, { scheme: 'Bearer' })).status).toBe(200);
    // It knows no DPoP scheme.
    expect((await resourceCall(e, token, resourceProof(e, keys.ES256, token))).status).toBe(401);
  });
});

describe('oauth2 emulator with dpop: the protected resource', () => {
  it.each(DPOP_ALGS)('%s: a DPoP token with a good proof is accepted', async (alg) => {
    const e = await emulator();
    const token = await boundToken(e, keys[alg]);
    const answer = await resourceCall(e, token, resourceProof(e, keys[alg], token));
    expect(answer).toMatchObject({ status: 200, json: { ok: true, clientId: 'test-client', jkt: keys[alg].jkt } });
    expect(e.resourceRequests[0]!.dpop).toMatchObject({
      htm: 'GET',
      htu: e.resourceUrl,
      ath: athOf(token),
      outcome: 'accepted',
    });
  });

  it('each request needs its own proof: htm and htu of that request (query aside), fresh jti', async () => {
    const e = await emulator();
    const key = keys.ES256;
    const token = await boundToken(e, key);
    const echo = `${e.baseUrl}/echo`;
    const post = dpopProof(key, { htm: 'POST', htu: echo, ath: athOf(token) }, { now: clock.now() });
    expect((await resourceCall(e, token, post, { method: 'POST', url: `${echo}?page=2` })).status).toBe(200);
    challenged(await resourceCall(e, token, post, { method: 'POST', url: echo }), 'invalid_dpop_proof');
    const wrongMethod = dpopProof(key, { htm: 'GET', htu: echo, ath: athOf(token) }, { now: clock.now() });
    challenged(await resourceCall(e, token, wrongMethod, { method: 'POST', url: echo }), 'invalid_dpop_proof');
    // A proof for the token endpoint is not one for the resource.
    challenged(await resourceCall(e, token, resourceProof(e, key, token, { htu: e.tokenUrl })), 'invalid_dpop_proof');
    expect(e.resourceRequests.map((r) => r.dpop?.problem)).toEqual([
      undefined,
      'DPoP proof jti has already been used',
      'DPoP proof htm does not match the method',
      'DPoP proof htu does not match the request URL',
    ]);
  });

  it('a wrong ath, a missing proof or a stale one: 401 invalid_dpop_proof', async () => {
    const e = await emulator();
    const key = keys.EdDSA;
    const token = await boundToken(e, key);
    challenged(
      await resourceCall(e, token, resourceProof(e, key, token, { ath: athOf('another') })),
      'invalid_dpop_proof',
    );
    challenged(await resourceCall(e, token, resourceProof(e, key, token, { ath: undefined })), 'invalid_dpop_proof');
    challenged(await resourceCall(e, token, undefined), 'invalid_dpop_proof');
    challenged(
      await resourceCall(e, token, resourceProof(e, key, token, { iat: nowSeconds() - 120 })),
      'invalid_dpop_proof',
    );
    expect(e.resourceRequests[0]!.dpop!.problem).toBe('DPoP proof ath does not match the access token');
  });

  it('a proof by another key (jkt mismatch) is 401 invalid_token', async () => {
    const e = await emulator();
    const token = await boundToken(e, keys.ES256);
    const answer = await resourceCall(e, token, resourceProof(e, other, token));
    challenged(answer, 'invalid_token');
    expect(answer.json.error_description).toBe('the access token is bound to another key');
  });

  it('a DPoP-bound token sent as Bearer is refused, with or without a proof', async () => {
    const e = await emulator();
    const key = keys.ES256;
    const token = await boundToken(e, key);
    challenged(await resourceCall(e, token, undefined, { scheme: 'Bearer' }), 'invalid_token');
    challenged(await resourceCall(e, token, resourceProof(e, key, token), { scheme: 'Bearer' }), 'invalid_token');
    // The same token is good with its scheme and a proof.
    expect((await resourceCall(e, token, resourceProof(e, key, token))).status).toBe(200);
  });

  it('an unknown or revoked token with the DPoP scheme: 401 DPoP invalid_token', async () => {
    const e = await emulator();
    const key = keys.ES256;
    const token = await boundToken(e, key);
    e.revoke(token);
    challenged(await resourceCall(e, token, resourceProof(e, key, token)), 'invalid_token');
    challenged(await resourceCall(e, 'nope', resourceProof(e, key, 'nope')), 'invalid_token');
  });

  it('requireNonce: the resource demands its own nonce (401 use_dpop_nonce), then accepts it', async () => {
    const e = await emulator({ dpop: { requireNonce: true } });
    const key = keys.ES256;
    const token = await boundToken(e, key, e.dpopNonce('token'));
    const first = await resourceCall(e, token, resourceProof(e, key, token));
    challenged(first, 'use_dpop_nonce');
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toBe(e.dpopNonce('resource'));
    // The token endpoint's nonce is not the resource's.
    challenged(
      await resourceCall(e, token, resourceProof(e, key, token, { nonce: e.dpopNonce('token') })),
      'use_dpop_nonce',
    );
    const ok = await resourceCall(e, token, resourceProof(e, key, token, { nonce }));
    expect(ok).toMatchObject({ status: 200, headers: { 'dpop-nonce': nonce } });
    e.rotateDpopNonce('resource');
    challenged(await resourceCall(e, token, resourceProof(e, key, token, { nonce })), 'use_dpop_nonce');
    // A nonce demand does not revoke the token.
    expect(e.isLive(token)).toBe(true);
  });

  it('a scripted use_dpop_nonce on the resource is a 401 DPoP challenge with the nonce', async () => {
    const e = await emulator();
    const key = keys.ES256;
    const token = await boundToken(e, key);
    e.failNext('use_dpop_nonce', { on: 'resource', times: 2 });
    for (let i = 0; i < 2; i++) {
      const answer = await resourceCall(e, token, resourceProof(e, key, token));
      challenged(answer, 'use_dpop_nonce');
      expect(answer.headers['dpop-nonce']).toBe(e.dpopNonce('resource'));
    }
    const nonce = e.dpopNonce('resource');
    expect((await resourceCall(e, token, resourceProof(e, key, token, { nonce }))).status).toBe(200);
  });
});

describe('oauth2 emulator with dpop: a DPoP client tested offline, as users would', () => {
  it('clientOptions() with requireNonce: the module gets a DPoP token and calls the resource, nonces and all', async () => {
    const e = await emulator({ dpop: { requireNonce: true } });
    const app = cleanup.track(await bootHttp({ idp: e.clientOptions() }, { oauth: { clock } }));
    const { fetch } = app.moduleRef.get(OAuthFetch);
    for (let i = 0; i < 2; i++) {
      const response = await fetch(e.resourceUrl);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ok: true, jkt: e.issuedTokens[0]!.jkt });
    }
    expect(e.tokenRequests.map((r) => r.dpop?.outcome)).toEqual(['use_dpop_nonce', 'accepted']);
    // The resource's nonce, once learnt, goes on the next proof at once.
    expect(e.resourceRequests.map((r) => r.dpop?.outcome)).toEqual(['use_dpop_nonce', 'accepted', 'accepted']);
    expect(e.resourceRequests.map((r) => r.headers.authorization)).toEqual(
      Array(3).fill(`DPoP ${e.issuedTokens[0]!.accessToken}`),
    );
  });

  it("two scripted nonce demands in a row: the second 401 is the caller's answer", async () => {
    const e = await emulator();
    const app = cleanup.track(await bootHttp({ idp: e.clientOptions() }, { oauth: { clock } }));
    const { fetch } = app.moduleRef.get(OAuthFetch);
    e.failNext('use_dpop_nonce', { on: 'resource', times: 2 });
    const response = await fetch(e.resourceUrl);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(e.resourceRequests).toHaveLength(2);
    expect(e.resourceRequests[1]!.dpop?.nonce).toBe(e.dpopNonce('resource'));
    expect(e.tokenRequests).toHaveLength(1);
  });
});
