import 'reflect-metadata';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { HttpService } from '@nestjs/axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { OAuthFetch, TokenRequestError, TokenService, type OAuthClientOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { OAuthDispatcher, oauthInterceptor } from '../../lib/undici/index.js';
import { bootHttp, type HttpApp } from '../http/http-support.js';
import { closeAfterEach } from '../support/cleanup.js';
import { FORM, send } from '../support/dpop-http.js';
import { DPOP_API, DPOP_CLIENT, startDpopProvider, type DpopProviderServer } from '../support/dpop-oidc-provider.js';
import { athOf, dpopKey, dpopProof, readJws, thumbprint } from '../support/dpop-proofs.js';
import {
  jwtAccessTokens,
  startDpopResourceServer,
  type DpopResourceServer,
  type ResourceCall,
} from '../support/dpop-resource-server.js';

/**
 * Issue 15 item 6: DPoP against a real authorization server. node-oidc-provider (DPoP on, with and
 * without nonces, and off) issues the tokens; a resource server that checks every proof strictly
 * (signature, typ, htm, htu, iat, ath, jti reuse, nonce, cnf.jkt) takes the calls, on the three
 * transports. The module and the resource server share a FakeClock set to the real time at the
 * start (node-oidc-provider reads the real clock; it allows proofs 300 s either way).
 */
const { track } = closeAfterEach();

interface Answer {
  status: number;
  json: Record<string, unknown>;
}
interface CallOptions {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}
interface Transport {
  name: string;
  /** Whether it follows redirects (undici's `request` on a bare dispatcher does not). */
  redirects?: false;
  client(app: HttpApp): (url: string, options?: CallOptions) => Promise<Answer>;
}

const parse = (status: number, text: string): Answer => ({
  status,
  json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
});

function undiciClient(dispatcher: Dispatcher, outer?: Dispatcher.DispatcherComposeInterceptor) {
  track({ close: () => dispatcher.close() });
  const composed = outer === undefined ? dispatcher : dispatcher.compose(outer);
  return async (url: string, { method = 'GET', body, headers }: CallOptions = {}) => {
    const response = await request(url, { dispatcher: composed, method, body, headers } as Parameters<
      typeof request
    >[1]);
    return parse(response.statusCode, await response.body.text());
  };
}

const TRANSPORTS: Transport[] = [
  {
    name: 'HttpService (axios)',
    client:
      (app) =>
      async (url, { method = 'GET', body, headers } = {}) => {
        const response = await app.moduleRef.get(HttpService).axiosRef.request<string>({
          url,
          method,
          data: body,
          headers,
          validateStatus: () => true,
          responseType: 'text',
          transformResponse: [(data: string) => data],
        });
        return parse(response.status, response.data);
      },
  },
  {
    name: 'OAuthFetch',
    client:
      (app) =>
      async (url, { method = 'GET', body, headers } = {}) => {
        const { fetch } = app.moduleRef.get(OAuthFetch);
        const response = await fetch(url, { method, body, headers });
        return parse(response.status, await response.text());
      },
  },
  {
    name: 'undici (OAuthDispatcher + interceptors.redirect)',
    client: (app) =>
      undiciClient(new OAuthDispatcher(app.moduleRef.get(TokenService)), interceptors.redirect({ maxRedirections: 5 })),
  },
  {
    // Alone, the interceptor gets the WrapHandler compose puts around request()'s handler (the older API).
    name: 'undici (oauthInterceptor alone)',
    redirects: false,
    client: (app) => undiciClient(new Agent().compose(oauthInterceptor(app.moduleRef.get(TokenService)))),
  },
];

let idp: DpopProviderServer;
let nonceIdp: DpopProviderServer;
let bearerIdp: DpopProviderServer;
let clock: FakeClock;

beforeAll(async () => {
  [idp, nonceIdp, bearerIdp] = await Promise.all([
    startDpopProvider(),
    startDpopProvider({ requireNonce: true }),
    startDpopProvider({ dpop: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([idp, nonceIdp, bearerIdp].map((server) => server?.close()));
});
beforeEach(() => {
  clock = new FakeClock(Date.now());
  for (const server of [idp, nonceIdp, bearerIdp]) {
    server.tokenRequests.length = 0;
    server.spoilNonces(0);
  }
});

/** A resource server accepting the JWT access tokens of `issuer`, on the test's clock. */
async function resourceServer(issuer: DpopProviderServer, requireNonce = false): Promise<DpopResourceServer> {
  const checkToken = jwtAccessTokens({
    issuer: issuer.issuer,
    jwksUrl: `${issuer.issuer}/jwks`,
    audience: DPOP_API,
    clock,
  });
  return track(await startDpopResourceServer({ checkToken, requireNonce, clock }));
}

function dpopClient(
  issuer: DpopProviderServer,
  api: DpopResourceServer,
  extra: Partial<OAuthClientOptions> = {},
): OAuthClientOptions {
  return {
    strategy: 'oauth2',
    issuer: issuer.issuer,
    clientId: DPOP_CLIENT.clientId,
    clientSecret: DPOP_CLIENT.clientSecret,
    dpop: true,
    attachTo: [api.url],
    ...extra,
  } as OAuthClientOptions;
}

/** The claims of a recorded call's proof. */
const claimsOf = (call: ResourceCall | undefined) => call?.proof?.claims ?? {};

describe('the test resource server itself is strict (hand-made proofs, token from node-oidc-provider)', () => {
  it('accepts a good proof and refuses a wrong ath, htm, htu, key, a reused jti and the Bearer scheme', async () => {
    const api = await resourceServer(idp);
    const key = dpopKey('ES256');
    const tokenAnswer = await send(idp.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${DPOP_CLIENT.clientId}:${DPOP_CLIENT.clientSecret}`).toString('base64')}`,
        'content-type': FORM,
        dpop: dpopProof(key, { htm: 'POST', htu: idp.tokenUrl }, { now: clock.now() }),
      },
      body: 'grant_type=client_credentials',
    });
    expect(tokenAnswer).toMatchObject({ status: 200, json: { token_type: 'DPoP' } });
    const token = tokenAnswer.json.access_token as string;
    expect(readJws(token).claims.cnf).toEqual({ jkt: key.jkt });
    const url = `${api.url}/items`;
    const proof = (claims: Record<string, unknown> = {}, signer = key) =>
      dpopProof(signer, { htm: 'GET', htu: url, ath: athOf(token), ...claims }, { now: clock.now() });
    const call = (dpop: string, scheme = 'DPoP') =>
      send(`${url}?q=1`, { headers: { authorization: `${scheme} ${token}`, dpop } });
    const good = proof();
    expect(await call(good)).toMatchObject({ status: 200, json: { ok: true, scheme: 'DPoP', jkt: key.jkt } });
    for (const bad of [
      good,
      proof({ ath: athOf('x') }),
      proof({ htm: 'POST' }),
      proof({ htu: `${url}?q=1` }),
      proof({ htu: `${api.url}/other` }),
      proof({ iat: Math.floor(clock.now() / 1000) - 61 }),
      proof({}, dpopKey('ES256')),
    ]) {
      expect((await call(bad)).status).toBe(401);
    }
    expect((await call(proof(), 'Bearer')).status).toBe(401);
    expect(api.calls.map((c) => c.problem)).toEqual([
      undefined,
      'jti reused',
      'ath',
      'htm',
      `htu ${url}?q=1 is not ${url}`,
      `htu ${api.url}/other is not ${url}`,
      'iat',
      'cnf.jkt is not the proof key',
      'a DPoP-bound token sent as Bearer',
    ]);
  });
});

describe.each(TRANSPORTS)('DPoP against node-oidc-provider: $name', (transport) => {
  async function boot(clients: Record<string, OAuthClientOptions>) {
    const app = track(await bootHttp(clients, { oauth: { clock } }));
    return { app, call: transport.client(app) };
  }

  it('gets a DPoP token and sends it as DPoP with a fresh, valid proof on every call', async () => {
    const api = await resourceServer(idp);
    const { app, call } = await boot({ api: dpopClient(idp, api) });
    const answers = [
      await call(`${api.url}/items?page=1`),
      await call(`${api.url}/items`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      }),
      await call(`${api.url}/v2/items/7`, { method: 'DELETE' }),
    ];
    expect(answers.map((a) => [a.status, a.json.scheme])).toEqual([
      [200, 'DPoP'],
      [200, 'DPoP'],
      [200, 'DPoP'],
    ]);
    const token = await app.tokens.getToken('api');
    expect(token.tokenType.toLowerCase()).toBe('dpop');
    // One token request, with a proof the provider verified, for the token endpoint.
    expect(idp.tokenRequests).toHaveLength(1);
    const tokenProof = idp.tokenRequests[0]!.proof!;
    expect(idp.tokenRequests[0]).toMatchObject({ status: 200, tokenType: 'DPoP' });
    expect(tokenProof.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(tokenProof.claims).toMatchObject({ htm: 'POST', htu: idp.tokenUrl });
    const jkt = thumbprint(tokenProof.header.jwk as Record<string, unknown>);
    expect(readJws(token.accessToken).claims.cnf).toEqual({ jkt });
    // Each call: the DPoP scheme, one proof by the same key, its own method and URL (no query), ath, a new jti.
    expect(api.calls.map((c) => [c.status, c.scheme, c.proofCount, c.token])).toEqual(
      Array(3).fill([200, 'DPoP', 1, token.accessToken]),
    );
    expect(api.calls.map((c) => [claimsOf(c).htm, claimsOf(c).htu])).toEqual([
      ['GET', `${api.url}/items`],
      ['POST', `${api.url}/items`],
      ['DELETE', `${api.url}/v2/items/7`],
    ]);
    expect(api.calls.every((c) => claimsOf(c).ath === athOf(token.accessToken))).toBe(true);
    expect(api.calls.every((c) => thumbprint(c.proof!.header.jwk as Record<string, unknown>) === jkt)).toBe(true);
    const jtis = [tokenProof.claims.jti, ...api.calls.map((c) => claimsOf(c).jti)];
    expect(new Set(jtis).size).toBe(4);
    expect(api.calls[1]!.body).toBe('{"a":1}');
  });

  if (transport.redirects !== false)
    it('a redirect hop on the same origin gets a new proof for the new URL', async () => {
      const api = await resourceServer(idp);
      const { call } = await boot({ api: dpopClient(idp, api) });
      const answer = await call(`${api.url}/redirect/landing?x=1`);
      expect(answer).toMatchObject({ status: 200, json: { scheme: 'DPoP', path: '/landing' } });
      expect(api.calls.map((c) => [c.status, c.url, claimsOf(c).htu])).toEqual([
        [307, '/redirect/landing?x=1', `${api.url}/redirect/landing`],
        [200, '/landing?x=1', `${api.url}/landing`],
      ]);
      expect(claimsOf(api.calls[0]).jti).not.toBe(claimsOf(api.calls[1]).jti);
    });

  it('a 400 use_dpop_nonce from the authorization server is retried once with its nonce', async () => {
    const api = await resourceServer(nonceIdp);
    const { app, call } = await boot({ api: dpopClient(nonceIdp, api) });
    expect((await call(`${api.url}/items`)).status).toBe(200);
    const [first, second] = nonceIdp.tokenRequests;
    expect(nonceIdp.tokenRequests).toHaveLength(2);
    expect(first).toMatchObject({ status: 400, error: 'use_dpop_nonce' });
    expect(first!.proof!.claims.nonce).toBeUndefined();
    expect(second).toMatchObject({ status: 200, tokenType: 'DPoP' });
    expect(second!.proof!.claims.nonce).toBe(first!.nonceHeader);
    expect(second!.proof!.claims.jti).not.toBe(first!.proof!.claims.jti);
    expect((await app.tokens.getToken('api')).tokenType.toLowerCase()).toBe('dpop');
  });

  it('a second use_dpop_nonce from the authorization server is not retried: TokenRequestError, no call', async () => {
    nonceIdp.spoilNonces(1);
    const api = await resourceServer(nonceIdp);
    const { call } = await boot({ api: dpopClient(nonceIdp, api) });
    const error = await call(`${api.url}/items`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400 });
    const [first, second] = nonceIdp.tokenRequests;
    expect(nonceIdp.tokenRequests.map((r) => r.error)).toEqual(['use_dpop_nonce', 'use_dpop_nonce']);
    expect(second!.proof!.claims.nonce).toBe(first!.nonceHeader);
    expect(api.calls).toHaveLength(0);
    // The latest nonce (the second answer's) is kept: the next token request carries it and succeeds.
    expect((await call(`${api.url}/items`)).status).toBe(200);
    expect(nonceIdp.tokenRequests).toHaveLength(3);
    expect(nonceIdp.tokenRequests[2]!.proof!.claims.nonce).toBe(second!.nonceHeader);
  });

  it('a 401 use_dpop_nonce from the API is retried once with its nonce (any method); the token is kept', async () => {
    const api = await resourceServer(idp, true);
    const { call } = await boot({ api: dpopClient(idp, api) });
    const answer = await call(`${api.url}/items`, { method: 'POST', body: 'same bytes' });
    expect(answer).toMatchObject({ status: 200, json: { scheme: 'DPoP', body: 'same bytes' } });
    expect(api.calls.map((c) => [c.status, c.error, claimsOf(c).nonce, c.body])).toEqual([
      [401, 'use_dpop_nonce', undefined, 'same bytes'],
      [200, undefined, api.nonce, 'same bytes'],
    ]);
    expect(claimsOf(api.calls[0]).jti).not.toBe(claimsOf(api.calls[1]).jti);
    // The nonce is kept for the origin: the next call carries it at once.
    expect((await call(`${api.url}/other`)).status).toBe(200);
    expect(api.calls).toHaveLength(3);
    expect(claimsOf(api.calls[2]).nonce).toBe(api.nonce);
    // Neither dropped nor refreshed.
    expect(idp.tokenRequests).toHaveLength(1);
  });

  it("a second nonce 401 from the API is not retried again: it is the caller's answer", async () => {
    const api = await resourceServer(idp);
    const { call } = await boot({ api: dpopClient(idp, api) });
    api.demandNonce(2);
    const answer = await call(`${api.url}/items`);
    expect(answer).toMatchObject({ status: 401, json: { error: 'use_dpop_nonce' } });
    expect(api.calls.map((c) => c.error)).toEqual(['use_dpop_nonce', 'use_dpop_nonce']);
    expect(idp.tokenRequests).toHaveLength(1);
    // The latest nonce (the one on the 401 the caller got) is kept: the next call goes through at once.
    expect((await call(`${api.url}/items`)).status).toBe(200);
    expect(api.calls.slice(2).map((c) => [c.status, claimsOf(c).nonce === api.nonce])).toEqual([[200, true]]);
  });

  it('a Bearer token from a server that ignores DPoP is sent as Bearer, without a proof', async () => {
    const api = await resourceServer(bearerIdp);
    const { app, call } = await boot({ api: dpopClient(bearerIdp, api) });
    expect(await call(`${api.url}/items`)).toMatchObject({ status: 200, json: { scheme: 'Bearer' } });
    expect((await app.tokens.getToken('api')).tokenType).toBe('Bearer');
    expect(bearerIdp.tokenRequests).toMatchObject([{ status: 200, tokenType: 'Bearer' }]);
    expect(bearerIdp.tokenRequests[0]!.proof).toBeDefined();
    expect(api.calls.map((c) => [c.scheme, c.proofCount])).toEqual([['Bearer', 0]]);
  });

  const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const KEYS: Array<[string, () => { option: OAuthClientOptions['dpop']; alg: string; publicKey: KeyObject }]> = [
    [
      'an Ed25519 PEM with algorithm EdDSA',
      () => {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        return { option: { key: pem(privateKey), algorithm: 'EdDSA' }, alg: 'EdDSA', publicKey };
      },
    ],
    [
      'an RSA KeyObject (RS256 by key type)',
      () => {
        const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return { option: { key: privateKey }, alg: 'RS256', publicKey };
      },
    ],
    [
      'an RSA private JWK with algorithm PS256',
      () => {
        const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return { option: { key: privateKey.export({ format: 'jwk' }), algorithm: 'PS256' }, alg: 'PS256', publicKey };
      },
    ],
  ];

  it.each(KEYS)('dpop with %s: proofs are signed with that key', async (_name, make) => {
    const { option, alg, publicKey } = make();
    const api = await resourceServer(idp);
    const { call } = await boot({ api: dpopClient(idp, api, { dpop: option }) });
    expect(await call(`${api.url}/items`)).toMatchObject({ status: 200, json: { scheme: 'DPoP' } });
    const jkt = thumbprint(publicKey.export({ format: 'jwk' }));
    expect(idp.tokenRequests[0]!.proof!.header).toMatchObject({ alg });
    expect(api.calls[0]!.proof!.header).toMatchObject({ alg });
    expect(api.calls[0]!.proof!.header.jwk).toMatchObject(publicKey.export({ format: 'jwk' }));
    expect(api.calls[0]).toMatchObject({ status: 200 });
    expect(thumbprint(api.calls[0]!.proof!.header.jwk as Record<string, unknown>)).toBe(jkt);
  });
});
