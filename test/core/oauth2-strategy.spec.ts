import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { OAuth2ClientOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';

let server: RecordingServer;
let app: Booted | undefined;
beforeAll(async () => {
  server = await startRecordingServer({
    'POST /oauth/token': (_req, res) => json(res, 200, { access_token: 'tok', token_type: 'bearer', expires_in: 60 }),
    'POST /tenant/oauth/token': (_req, res) =>
      json(res, 200, { access_token: 'tok', token_type: 'bearer', expires_in: 60 }),
  });
});
afterAll(() => server.close());
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const ID = 'cli ent:ü+%=/id';
const SECRET = 's3cr:t = +%& ü€ "x"';

/** What an RFC 6749 §2.3.1 server does: Base64-decode, split at the first ':', form-decode both. */
function decodeBasic(request: RecordedRequest, formDecode = true) {
  const header = String(request.headers.authorization);
  expect(header).toMatch(/^Basic [A-Za-z0-9+/=]+$/);
  const pair = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  const decode = (s: string) => (formDecode ? new URLSearchParams(`x=${s}`).get('x')! : s);
  return { id: decode(pair.slice(0, colon)), secret: decode(pair.slice(colon + 1)) };
}

async function tokenRequest(
  options: Partial<OAuth2ClientOptions>,
  scope?: string | string[],
): Promise<RecordedRequest> {
  app = await bootOAuth({
    api: {
      strategy: 'oauth2',
      baseUrl: server.url,
      clientId: ID,
      clientSecret: SECRET,
      ...options,
    } as OAuth2ClientOptions,
  });
  const before = server.requests.length;
  await app.tokens.getToken('api', scope === undefined ? undefined : { scope });
  expect(server.requests.length).toBe(before + 1);
  return server.requests.at(-1)!;
}

describe('oauth2 strategy (RFC 6749 §4.4)', () => {
  it('client_secret_basic (default) form-encodes id and secret before Base64, per §2.3.1', async () => {
    const request = await tokenRequest({});
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/oauth/token');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(decodeBasic(request)).toEqual({ id: ID, secret: SECRET });
    expect(request.body).toBe('grant_type=client_credentials');
  });

  it("basicEncoding 'raw' sends id:secret as they are", async () => {
    const request = await tokenRequest({ basicEncoding: 'raw', clientId: 'plain-id' });
    expect(decodeBasic(request, false)).toEqual({ id: 'plain-id', secret: SECRET });
  });

  it('client_secret_post sends the credentials in the form body and no Authorization header', async () => {
    const request = await tokenRequest({ authMethod: 'client_secret_post' });
    expect(request.headers.authorization).toBeUndefined();
    const form = new URLSearchParams(request.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe(ID);
    expect(form.get('client_secret')).toBe(SECRET);
  });

  it('sends scope space-separated, audience, every resource and extra params', async () => {
    const request = await tokenRequest({
      scope: ['invoices:write', 'invoices:read'],
      audience: 'https://api.example.com',
      resource: ['https://a.example.com', 'https://b.example.com'],
      extraParams: { tenant: 'acme & co', grant_type: 'ignored' },
    });
    const form = new URLSearchParams(request.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('invoices:read invoices:write');
    expect(form.get('audience')).toBe('https://api.example.com');
    expect(form.getAll('resource')).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(form.get('tenant')).toBe('acme & co');
  });

  it('a per-call scope replaces the configured one', async () => {
    const request = await tokenRequest({ scope: 'configured' }, 'other:scope');
    expect(new URLSearchParams(request.body).get('scope')).toBe('other:scope');
  });

  it('keeps a base path and never doubles slashes', async () => {
    app = await bootOAuth({
      api: { strategy: 'oauth2', baseUrl: `${server.url}/tenant/`, clientId: 'a', clientSecret: 'b' },
    });
    await app.tokens.getToken('api');
    expect(server.requests.at(-1)!.url).toBe('/tenant/oauth/token');
  });

  it('tokenUrl overrides baseUrl', async () => {
    app = await bootOAuth({
      api: {
        strategy: 'oauth2',
        baseUrl: 'https://api.example.com',
        tokenUrl: `${server.url}/tenant/oauth/token`,
        clientId: 'a',
        clientSecret: 'b',
      },
    });
    await app.tokens.getToken('api');
    expect(server.requests.at(-1)!.path).toBe('/tenant/oauth/token');
  });
});
