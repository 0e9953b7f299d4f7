import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { OAuthClients, OAuthConfigError, type OAuthClientOptions, type TokenStrategy } from '../../lib/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { deferred } from '../support/deferred.js';
import { json, type RecordedRequest } from '../support/recording-server.js';
import {
  bootAttached,
  oauth2Client,
  startTokenServer,
  startTransportServers,
  startUpstream,
  type HttpApp,
  type TokenServer,
  type UpstreamServer,
} from '../http/http-support.js';
import { transportTable } from '../http/transport-table.js';

/**
 * `OAuthClients`: clients added, replaced and removed while the app runs, on every transport
 * (the table of test/http/transport-table.ts), against real servers on 127.0.0.1.
 */
const { track } = closeAfterEach();

let tokens: TokenServer;
let api: UpstreamServer;
let tenant: UpstreamServer;

beforeEach(async () => {
  ({ tokens, api, foreign: tenant } = await startTransportServers(track));
});

async function boot(extra: Record<string, OAuthClientOptions> = {}): Promise<HttpApp & { clients: OAuthClients }> {
  const app = await bootAttached(track, { tokens, api }, extra);
  return Object.assign(app, { clients: app.moduleRef.get(OAuthClients) });
}

describe.each(transportTable(track))('$name', (transport) => {
  it('a client added at runtime attaches from the moment add resolves, also to a URL seen before', async () => {
    const app = await boot();
    const call = transport.client(app);
    const tenantTokens = track(await startTokenServer('tenant'));
    // Seen once without a client: the transport remembers that this URL gets no token.
    expect((await call(`${tenant.url}/items`)).authorization).toBeNull();

    await app.clients.add('tenant', oauth2Client(tenantTokens, { attachTo: [tenant.url] }));

    expect((await call(`${tenant.url}/items`)).authorization).toBe('Bearer tenant-1');
    expect((await call(`${tenant.url}/items`, { oauth: 'tenant' })).authorization).toBe('Bearer tenant-1');
    expect((await call(`${api.url}/items`)).authorization).toBe('Bearer tok-1');
    expect(tenantTokens.count).toBe(1);
  });

  it('after remove, no call carries its token: attachTo matches nothing, the name is unknown', async () => {
    const app = await boot();
    const call = transport.client(app);
    expect((await call(`${api.url}/items`)).authorization).toBe('Bearer tok-1');

    await app.clients.remove('api');

    expect((await call(`${api.url}/items`)).authorization).toBeNull();
    const sent = api.requests.length;
    await expect(call(`${api.url}/items`, { oauth: 'api' })).rejects.toBeInstanceOf(OAuthConfigError);
    expect(api.requests).toHaveLength(sent); // nothing sent for an unknown client
    expect(tokens.count).toBe(1);
  });

  it('replace: true swaps the client at once; the old token is not served again', async () => {
    const app = await boot();
    const call = transport.client(app);
    expect((await call(`${api.url}/items`)).authorization).toBe('Bearer tok-1');
    const next = track(await startTokenServer('next'));

    await app.clients.add('api', oauth2Client(next, { attachTo: [api.url] }), { replace: true });

    expect((await call(`${api.url}/items`)).authorization).toBe('Bearer next-1');
    expect(tokens.count).toBe(1);
  });
});

describe('OAuthClients: add, remove, has, names', () => {
  it('a runtime client is like a boot one: getToken, has, names (boot ones first, then in the order added)', async () => {
    const app = await boot();
    const other = track(await startTokenServer('other'));
    expect(app.clients.names()).toEqual(['api']);
    expect(app.clients.has('b')).toBe(false);

    await app.clients.add('b', oauth2Client(other, { scope: 'read' }));
    await app.clients.add('a', oauth2Client(other));

    expect(app.clients.names()).toEqual(['api', 'b', 'a']);
    expect(app.clients.has('b')).toBe(true);
    await expect(app.tokens.getToken('b')).resolves.toMatchObject({ accessToken: 'other-1' });
    expect(new URLSearchParams(other.requests[0]!.body).get('scope')).toBe('read');
  });

  it('is validated exactly as at boot: every problem, naming the client and the option, never the secret', async () => {
    const app = await boot();
    const error = (await app.clients
      .add('tenant-7', {
        strategy: 'oauth2',
        tokenUrl: 'not a url',
        clientId: '',
        clientSecret: 'tenant-7-secret-value',
        timeoutMs: 0,
      } as OAuthClientOptions)
      .catch((e: unknown) => e)) as OAuthConfigError;

    expect(error).toBeInstanceOf(OAuthConfigError);
    expect(error.client).toBe('tenant-7');
    expect(error.issues.map((i) => [i.client, i.field])).toEqual(
      expect.arrayContaining([
        ['tenant-7', 'tokenUrl'],
        ['tenant-7', 'clientId'],
        ['tenant-7', 'timeoutMs'],
      ]),
    );
    expect(error.message).toContain('"tokenUrl"');
    expect(JSON.stringify(error)).not.toContain('tenant-7-secret-value');
    expect(app.clients.has('tenant-7')).toBe(false);
  });

  it('an unknown strategy or a missing secret is an error naming the option, as at boot', async () => {
    const app = await boot();
    const strategy = (await app.clients
      .add('x', { strategy: 'nope', clientId: 'id', clientSecret: 's', tokenUrl: tokens.tokenUrl } as never)
      .catch((e: unknown) => e)) as OAuthConfigError;
    expect(strategy.field).toBe('strategy');
    const secret = (await app.clients
      .add('y', { strategy: 'oauth2', clientId: 'id', tokenUrl: tokens.tokenUrl } as OAuthClientOptions)
      .catch((e: unknown) => e)) as OAuthConfigError;
    expect([secret.client, secret.field]).toEqual(['y', 'clientSecret']);
  });

  it('an existing name is an OAuthConfigError unless replace: true; so is an empty name', async () => {
    const app = await boot();
    const exists = (await app.clients.add('api', oauth2Client(tokens)).catch((e: unknown) => e)) as OAuthConfigError;
    expect(exists).toBeInstanceOf(OAuthConfigError);
    expect(exists.client).toBe('api');
    expect(exists.message).toContain('replace: true');
    await expect(app.clients.add('', oauth2Client(tokens))).rejects.toBeInstanceOf(OAuthConfigError);
  });

  it('remove of an unknown name is an OAuthConfigError naming it', async () => {
    const app = await boot();
    await expect(app.clients.remove('nope')).rejects.toMatchObject({ client: 'nope' });
    await expect(app.clients.remove('nope')).rejects.toBeInstanceOf(OAuthConfigError);
  });

  it('a removed client is unknown to getToken; added again, it fetches a new token (nothing cached survived)', async () => {
    const app = await boot();
    await app.tokens.getToken('api');
    await app.clients.remove('api');
    await expect(app.tokens.getToken('api')).rejects.toBeInstanceOf(OAuthConfigError);
    await app.clients.add('api', oauth2Client(tokens));
    await expect(app.tokens.getToken('api')).resolves.toMatchObject({ accessToken: 'tok-2' });
  });

  it('a custom strategy class is resolved through Nest DI, as at boot', async () => {
    class TenantStrategy implements TokenStrategy {
      readonly tokenPath = '/oauth/token';
      buildRequest({ tokenUrl }: { tokenUrl: string }) {
        return { method: 'POST' as const, url: tokenUrl, headers: {}, body: 'grant_type=client_credentials' };
      }
      readToken(response: { json: unknown }) {
        const body = response.json as { access_token: string; expires_in: number };
        return { accessToken: body.access_token, expiresIn: body.expires_in };
      }
      readError() {
        return {};
      }
    }
    const app = await boot();
    await app.clients.add('custom', {
      strategy: TenantStrategy,
      baseUrl: tokens.url,
      clientId: 'c',
      clientSecret: 's',
    });
    await expect(app.tokens.getToken('custom')).resolves.toMatchObject({ accessToken: 'tok-1' });
  });
});

describe('concurrent add, remove and calls', () => {
  /** A token endpoint that answers only when told to (`release(n)`): `<prefix>-<n>` for request n (from 1). */
  async function heldTokenServer(prefix: string) {
    const server = track(await startTokenServer(prefix));
    const gates = [deferred(), deferred()];
    const arrivals = [deferred(), deferred()];
    let received = 0;
    server.route('POST /oauth/token', async (_req: RecordedRequest, res: ServerResponse) => {
      const n = ++received;
      arrivals[n - 1]!.resolve();
      await gates[n - 1]!.promise;
      json(res, 200, { access_token: `${prefix}-${n}`, expires_in: 3600 });
    });
    return {
      server,
      arrived: (n: number) => arrivals[n - 1]!.promise,
      release: (n: number) => gates[n - 1]!.resolve(),
    };
  }

  it('a getToken in flight for a removed client rejects, and its token is cached nowhere', async () => {
    const held = await heldTokenServer('slow');
    const app = await boot({ slow: oauth2Client(held.server) });
    const inFlight = app.tokens.getToken('slow').catch((e: unknown) => e);
    await held.arrived(1);

    await app.clients.remove('slow');
    held.release(1);

    const error = (await inFlight) as OAuthConfigError;
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect(error.client).toBe('slow');
    // Added again with the same options: the same cache key, and nothing in it.
    await app.clients.add('slow', oauth2Client(held.server));
    const again = app.tokens.getToken('slow');
    await held.arrived(2);
    held.release(2);
    await expect(again).resolves.toMatchObject({ accessToken: 'slow-2' });
  });

  it('replace while a request is in flight: its callers get the old token, the new client never serves it', async () => {
    const held = await heldTokenServer('old');
    const app = await boot({ slow: oauth2Client(held.server) });
    const inFlight = app.tokens.getToken('slow');
    await held.arrived(1);

    const next = track(await startTokenServer('new'));
    await app.clients.add('slow', oauth2Client(next), { replace: true });
    held.release(1);

    await expect(inFlight).resolves.toMatchObject({ accessToken: 'old-1' });
    await expect(app.tokens.getToken('slow')).resolves.toMatchObject({ accessToken: 'new-1' });
    await expect(app.tokens.getToken('slow')).resolves.toMatchObject({ accessToken: 'new-1' });
    expect(next.count).toBe(1);
  });

  it('calls for one name run in call order: add then remove leaves no client; two adds, one wins', async () => {
    const app = await boot();
    await Promise.all([app.clients.add('t', oauth2Client(tokens)), app.clients.remove('t')]);
    expect(app.clients.has('t')).toBe(false);

    const both = await Promise.allSettled([
      app.clients.add('u', oauth2Client(tokens)),
      app.clients.add('u', oauth2Client(tokens)),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(
      OAuthConfigError,
    );
  });

  it('many tenants added and removed while calls run: each call carries its own tenant token or none', async () => {
    const app = await boot();
    const tenants = await Promise.all(Array.from({ length: 5 }, () => startUpstream().then(track)));
    const tenantTokens = await Promise.all(tenants.map((_, i) => startTokenServer(`t${i}`).then(track)));
    const call = transportTable(track)[1]!.client(app); // OAuthFetch
    await Promise.all(
      tenants.map(async (upstream, i) => {
        await app.clients.add(`t${i}`, oauth2Client(tenantTokens[i]!, { attachTo: [upstream.url] }));
        const answers = await Promise.all(Array.from({ length: 5 }, () => call(`${upstream.url}/items`)));
        expect(answers.map((a) => a.authorization)).toEqual(Array(5).fill(`Bearer t${i}-1`));
        if (i % 2 === 0) {
          await app.clients.remove(`t${i}`);
          expect((await call(`${upstream.url}/items`)).authorization).toBeNull();
        }
      }),
    );
    expect(app.clients.names()).toEqual(['api', 't1', 't3']);
    expect(tenantTokens.map((t) => t.count)).toEqual([1, 1, 1, 1, 1]);
  });
});
