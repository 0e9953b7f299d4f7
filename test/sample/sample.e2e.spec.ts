import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock, startEmulator } from '../../lib/testing/index.js';
import { runSample, type SampleRun } from '../../sample/run-sample.js';

/** Collects what the sample prints. */
class Terminal extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

let serving: SampleRun | undefined;
afterEach(async () => {
  await serving?.close();
  serving = undefined;
});

describe('the sample app', () => {
  it('walks through every provider offline and every step behaves', async () => {
    const out = new Terminal();
    const run = await runSample({ out, clock: new FakeClock(Date.now()) });
    const lines = out.text.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('✘'))).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(lines.at(-1)).toBe('✔ all 42 steps behaved');
    for (const step of ['token request', '50 calls', 'refresh ahead', '429 hint', '401 recovery']) {
      expect(lines.filter((l) => l.includes(`✔ ${step}`))).toHaveLength(6);
    }
    // Five clients have a secret; the private_key_jwt one has its own last steps.
    expect(lines.filter((l) => l.includes('✔ bad secret'))).toHaveLength(5);
    expect(lines.filter((l) => l.includes('✔ fresh jti'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('✔ client refused'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('50 × 200 at once, 1 token request'))).toHaveLength(6);
    expect(out.text).toContain('&client_assertion=•••');
    expect(out.text).toContain('assertion ES256, kid sample-ledger-1');
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(80);

    // Three merchants of one partner API, added at runtime: the partner names the client each token was issued to.
    for (const step of ['add tenants', 'own tokens', 'secret rotated', 'remove tenant', 'reconnect']) {
      expect(lines.filter((l) => l.includes(`✔ ${step}`))).toHaveLength(1);
    }
    expect(out.text).toContain('OAuthClients.add × 3 → 9 clients, 0 token requests');
    // One partner host, each merchant's account a path on it.
    const added = [...out.text.matchAll(/merchant:(\w+) → (127\.0\.0\.1:\d+)(\/\S+)$/gm)].map((m) => m.slice(1));
    const host = added[0]?.[1];
    expect(added).toEqual([
      ['acme', host, '/merchants/acct-1001'],
      ['globex', host, '/merchants/acct-1002'],
      ['initech', host, '/merchants/acct-1003'],
    ]);
    expect(out.text).toContain(`http://${host}  (emulated) · 3 merchants · via HttpService`);
    expect(out.text).toContain('30 calls at once (10 per merchant), 3 token requests');
    const tokenOf = (merchant: string) =>
      new RegExp(`^ +${merchant} +10 × 200 as merchant-${merchant}, Bearer ([\\w-]{12})…$`, 'm').exec(out.text)?.[1];
    const firstTokens = ['acme', 'globex', 'initech'].map(tokenOf);
    expect(firstTokens).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
    expect(new Set(firstTokens).size).toBe(3);
    expect(out.text).toContain('secrets read from the vault 3× (once per token request)');
    expect(out.text).toContain('its tokens revoked → 401 → vault read 1× → 1 token request');
    expect(out.text).toContain("OAuthClients.remove('merchant:initech') → 8 clients");
    expect(out.text).toContain("initech's call → 401, sent without Authorization");
    expect(out.text).toContain("getToken('merchant:initech') → OAuthConfigError");
    expect(out.text).toContain('acme, globex → 200, each with its own token');
    expect(out.text).toContain('add again → 1 token request, a new token (old one dropped)');
    const again = /initech → 200 as merchant-initech, Bearer ([\w-]{12})…/.exec(out.text)?.[1];
    expect(again).toMatch(/^[\w-]{12}$/);
    expect(again).not.toBe(firstTokens[2]);
    // A token is shown only as its 12-character fingerprint.
    expect(out.text).not.toMatch(
      /(?:Bearer|bearer|DPoP) [\w-]{13}|client_secret":"(?!•••)|client_assertion=(?!•••)|eyJ[\w-]*\.|PRIVATE KEY/,
    );
  });

  it('--serve exposes the endpoints and never a token', async () => {
    const out = new Terminal();
    serving = await runSample({ out, serve: true, port: 0 });
    const base = /listening on (\S+)/.exec(out.text)![1]!.replace('[::1]', '127.0.0.1');
    const ping = await fetch(`${base}/providers/palisade/ping`).then((r) => r.json());
    expect(ping).toMatchObject({ provider: 'palisade', status: 200, body: { ok: true, provider: 'palisade' } });
    const tokens = (await fetch(`${base}/tokens`).then((r) => r.json())) as { client: string; fingerprint: string }[];
    expect(tokens.map((t) => t.client).sort()).toEqual([
      'alternative-payments',
      'billing',
      'firstvision',
      'ledger',
      'merchant:acme',
      'merchant:globex',
      'merchant:initech',
      'palisade',
      'youhodler',
    ]);
    expect(tokens.every((t) => /^[\w-]{12}$/.test(t.fingerprint))).toBe(true);
    expect(JSON.stringify(tokens)).not.toContain('accessToken');
    expect((await fetch(`${base}/providers/nope/ping`)).status).toBe(404);

    // Each merchant's call carries its own client's token; a disconnected merchant's carries none.
    for (const merchant of ['acme', 'globex', 'initech']) {
      expect(await fetch(`${base}/merchants/${merchant}/ping`).then((r) => r.json())).toMatchObject({
        merchant,
        status: 200,
        body: { ok: true, clientId: `merchant-${merchant}`, scope: 'payments:read' },
      });
    }
    expect((await fetch(`${base}/merchants/initech/connection`, { method: 'DELETE' })).status).toBe(204);
    expect(await fetch(`${base}/merchants/initech/ping`).then((r) => r.json())).toMatchObject({ status: 401 });
    const merchants = (await fetch(`${base}/merchants`).then((r) => r.json())) as {
      id: string;
      connected: boolean;
      apiUrl: string;
    }[];
    expect(merchants.map(({ id, connected }) => [id, connected])).toEqual([
      ['acme', true],
      ['globex', true],
      ['initech', false],
    ]);
    // One partner host: the accounts differ by path only.
    expect(new Set(merchants.map((m) => new URL(m.apiUrl).origin)).size).toBe(1);
    expect(merchants.map((m) => new URL(m.apiUrl).pathname)).toEqual([
      '/merchants/acct-1001',
      '/merchants/acct-1002',
      '/merchants/acct-1003',
    ]);
    const left = (await fetch(`${base}/tokens`).then((r) => r.json())) as { client: string }[];
    expect(left.map((t) => t.client)).not.toContain('merchant:initech');
    expect((await fetch(`${base}/merchants/initech/connection`, { method: 'PUT' })).status).toBe(200);
    expect(await fetch(`${base}/merchants/initech/ping`).then((r) => r.json())).toMatchObject({
      status: 200,
      body: { clientId: 'merchant-initech' },
    });
    expect((await fetch(`${base}/merchants/nope/ping`)).status).toBe(404);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const report = (await health.json()) as { info: { oauth: { status: string; clients: Record<string, unknown> } } };
    expect(report.info.oauth.status).toBe('up');
    expect(report.info.oauth.clients.palisade).toEqual({ status: 'up', expiresInSeconds: expect.any(Number) });
    const scraped = await (await fetch(`${base}/metrics`)).text();
    expect(scraped).toMatch(
      /oauth_client_token_requests_total\{[^}]*oauth_client="palisade"[^}]*outcome="success"[^}]*\} 1/,
    );
    expect(scraped).toMatch(/oauth_client_token_time_to_expiry\{[^}]*oauth_client="palisade"/);
    expect(scraped).not.toMatch(/Bearer|secret/i);
  });

  it('calls the API named by environment variables instead of starting its emulator', async () => {
    const outside = await startEmulator('palisade', { clientId: 'real-id', clientSecret: 'real-secret' });
    const env = {
      PALISADE_BASE_URL: outside.baseUrl,
      PALISADE_CLIENT_ID: 'real-id',
      PALISADE_CLIENT_SECRET: 'real-secret',
    };
    Object.assign(process.env, env);
    try {
      const out = new Terminal();
      const run = await runSample({ out, clock: new FakeClock(Date.now()) });
      expect(run.exitCode).toBe(0);
      expect(out.text).toContain('5 emulated on 127.0.0.1');
      expect(out.text).toContain(`${outside.baseUrl}  (real API)`);
      expect(outside.tokenRequests).toHaveLength(1);
      expect(outside.resourceRequests).toHaveLength(1);
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
      await outside.close();
    }
  });

  it('signs with the private key given in the environment, as a real deployment would', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const outside = await startEmulator('oauth2', {
      clientId: 'real-ledger',
      authMethods: ['private_key_jwt'],
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'ledger-2026-01' }] },
    });
    const env = {
      LEDGER_BASE_URL: outside.baseUrl,
      LEDGER_CLIENT_ID: 'real-ledger',
      // On one line with \n escapes, as a .env file or a CI secret often holds a PEM.
      LEDGER_PRIVATE_KEY: pem.trim().split('\n').join('\\n'),
      LEDGER_KEY_ID: 'ledger-2026-01',
    };
    Object.assign(process.env, env);
    try {
      const out = new Terminal();
      const run = await runSample({ out, clock: new FakeClock(Date.now()) });
      expect(run.exitCode).toBe(0);
      expect(out.text).toContain(`${outside.baseUrl}  (real API)`);
      expect(outside.tokenRequests).toHaveLength(1);
      const [request] = outside.tokenRequests;
      expect(request!.headers.authorization).toBeUndefined();
      expect(request!.form).toMatchObject({ client_id: 'real-ledger', client_assertion: expect.any(String) });
      expect(JSON.parse(Buffer.from(request!.form!.client_assertion!.split('.')[0]!, 'base64url').toString())).toEqual({
        alg: 'ES256',
        kid: 'ledger-2026-01',
      });
      expect(outside.resourceRequests).toHaveLength(1);
      for (const line of pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))) {
        expect(out.text).not.toContain(line);
      }
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
      await outside.close();
    }
  });
});
