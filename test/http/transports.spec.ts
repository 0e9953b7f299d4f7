import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { OAuthConfigError, TokenRequestError, type OAuthClientOptions } from '../../lib/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import {
  bootAttached,
  startTransportServers,
  oauth2Client,
  startUpstream,
  type TokenServer,
  type UpstreamServer,
} from './http-support.js';
import { transportTable } from './transport-table.js';

/**
 * The bearer rules, written once and held on every transport: HttpService (axios), OAuthFetch
 * and the undici interceptor (with undici's redirect interceptor outside it). Each transport's own
 * spec covers only what is particular to it.
 */
const { track } = closeAfterEach();
const TRANSPORTS = transportTable(track);

let tokens: TokenServer;
let api: UpstreamServer;
let foreign: UpstreamServer;

beforeEach(async () => ({ tokens, api, foreign } = await startTransportServers(track)));

describe.each(TRANSPORTS)('$name', (transport) => {
  async function boot(extra: Record<string, OAuthClientOptions> = {}) {
    return transport.client(await bootAttached(track, { tokens, api }, extra));
  }

  describe('which calls get a token', () => {
    it('the client whose attachTo matches; one token request for many calls', async () => {
      const call = await boot();
      const answers = await Promise.all(Array.from({ length: 5 }, () => call(`${api.url}/items`)));
      expect(answers.map((a) => a.authorization)).toEqual(Array(5).fill('Bearer tok-1'));
      expect(tokens.count).toBe(1);
    });

    it('none to another origin, with oauth: false, over a caller header, or to a token endpoint', async () => {
      const call = await boot();
      expect((await call(`${foreign.url}/items`)).authorization).toBeNull();
      expect((await call(`${api.url}/items`, { oauth: false })).authorization).toBeNull();
      expect((await call(`${api.url}/items`, { headers: { Authorization: 'Bearer mine' } })).authorization).toBe(
        'Bearer mine',
      );
      expect(tokens.count).toBe(0);
      await call(tokens.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' });
      expect(tokens.requests.at(-1)!.headers.authorization).toBeUndefined();
    });

    it('no bearer to a token endpoint learnt from an issuer, even on the call that made it known', async () => {
      const tokenEndpoint = `${tokens.url}/as/token`;
      tokens.route('GET /.well-known/oauth-authorization-server', (_req, res) =>
        json(res, 200, { issuer: tokens.url, token_endpoint: tokenEndpoint }),
      );
      tokens.route('POST /as/token', (_req, res) => json(res, 200, { access_token: 'iss-1', expires_in: 3600 }));
      const { tokenUrl: _, ...secret } = oauth2Client(tokens) as OAuthClientOptions & { tokenUrl?: string };
      const call = await boot({ iss: { ...secret, issuer: tokens.url, attachTo: [tokens.url] } as OAuthClientOptions });
      for (let i = 0; i < 2; i++) await call(tokenEndpoint, { method: 'POST', body: 'grant_type=client_credentials' });
      await call(`${tokens.url}/elsewhere`);
      expect(
        tokens.requests
          .filter((r) => r.path !== '/.well-known/oauth-authorization-server')
          .map((r) => r.headers.authorization),
      ).toEqual([
        'Basic aWQ6c2VjcmV0', // the module's own token request
        undefined,
        undefined,
        'Bearer iss-1',
      ]);
    });

    it('an explicit client and scope; an unknown client is an OAuthConfigError and nothing is sent', async () => {
      const call = await boot();
      expect((await call(`${foreign.url}/items`, { oauth: { client: 'api', scope: 'read' } })).authorization).toBe(
        'Bearer tok-1',
      );
      expect(new URLSearchParams(tokens.requests[0]!.body).get('scope')).toBe('read');
      await expect(call(`${api.url}/items`, { oauth: 'nope' })).rejects.toBeInstanceOf(OAuthConfigError);
      expect(api.requests).toHaveLength(0);
    });

    it('fails closed: no token, no call', async () => {
      tokens.route('POST /oauth/token', (_req, res) => json(res, 401, { error: 'invalid_client' }));
      const call = await boot();
      await expect(call(`${api.url}/items`)).rejects.toBeInstanceOf(TokenRequestError);
      expect(api.requests).toHaveLength(0);
    });
  });

  describe('a 401 to our token', () => {
    it('drops that token and retries an idempotent call once, with the same bytes', async () => {
      const refusing = track(await startUpstream((authorization) => authorization !== 'Bearer tok-1'));
      const call = await boot({ r: oauth2Client(tokens, { attachTo: [refusing.url] }) });
      const answer = await call(`${refusing.url}/items`, { method: 'PUT', body: 'same bytes' });
      expect(answer).toEqual({ status: 200, authorization: 'Bearer tok-2' });
      expect(refusing.requests.map((r) => [r.headers.authorization, r.body])).toEqual([
        ['Bearer tok-1', 'same bytes'],
        ['Bearer tok-2', 'same bytes'],
      ]);
    });

    it('a POST is retried only when it opts in, and never more than once', async () => {
      const always = track(await startUpstream(() => false));
      const call = await boot({ a: oauth2Client(tokens, { attachTo: [always.url] }) });
      expect((await call(`${always.url}/items`, { method: 'POST', body: 'x' })).status).toBe(401);
      expect(always.requests).toHaveLength(1);
      const optedIn = await call(`${always.url}/items`, { method: 'POST', body: 'x', oauth: { retryOn401: true } });
      expect(optedIn.status).toBe(401);
      expect(always.requests).toHaveLength(3);
    });
  });

  // A transport that does not follow redirects has nothing to show here.
  if (transport.redirects !== false)
    describe('redirects', () => {
      let redirector: RecordingServer;
      beforeEach(async () => {
        redirector = track(await startRecordingServer());
        redirector.route('POST /oauth/token', (_req, res) =>
          json(res, 200, { access_token: 'same-1', expires_in: 3600 }),
        );
      });
      const redirectTo = (status: number, location: string) => (_req: unknown, res: ServerResponse) =>
        void res.writeHead(status, { location }).end();
      const echoAuthorization = (req: { headers: { authorization?: string } }, res: ServerResponse) =>
        json(res, 200, { authorization: req.headers.authorization ?? null });
      const sameOriginClient = () =>
        oauth2Client(tokens, { tokenUrl: `${redirector.url}/oauth/token`, attachTo: [redirector.url] });

      it('the token stays on its origin: dropped on a hop to another origin, kept on one to the same', async () => {
        redirector.route('GET /away', redirectTo(302, `${foreign.url}/items`));
        redirector.route('GET /home', redirectTo(307, '/landing'));
        redirector.route('GET /landing', echoAuthorization);
        const call = await boot({ same: sameOriginClient() });
        expect((await call(`${redirector.url}/away`)).authorization).toBeNull();
        expect(foreign.authorizations()).toEqual([undefined]);
        expect((await call(`${redirector.url}/home`)).authorization).toBe('Bearer same-1');
      });

      it('a call naming its client explicitly carries no token to another origin either', async () => {
        redirector.route('GET /away', redirectTo(302, `${foreign.url}/items`));
        const call = await boot();
        expect((await call(`${redirector.url}/away`, { oauth: 'api' })).authorization).toBeNull();
        expect(redirector.requests.at(-1)!.headers.authorization).toBe('Bearer tok-1');
        expect(foreign.authorizations()).toEqual([undefined]);
      });

      it('a same-origin hop to a token URL carries no bearer', async () => {
        redirector.route('GET /to-token', redirectTo(307, '/oauth/token'));
        redirector.route('GET /oauth/token', echoAuthorization);
        const call = await boot({ same: sameOriginClient() });
        expect((await call(`${redirector.url}/to-token`)).authorization).toBeNull();
      });

      it('a 401 from another origin reached by a redirect neither drops the token nor retries', async () => {
        const refusing = track(await startUpstream(() => false));
        redirector.route('GET /away', redirectTo(307, `${refusing.url}/items`));
        const call = await boot({ same: sameOriginClient() });
        for (let i = 0; i < 3; i++) expect((await call(`${redirector.url}/away`)).status).toBe(401);
        expect(refusing.requests).toHaveLength(3);
        expect(redirector.requests.filter((r) => r.path === '/oauth/token')).toHaveLength(1);
      });
    });
});
