import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Emulator, EmulatorName, EmulatorOptionsByName } from '../../lib/testing/index.js';
import { startProviderApp } from './support/provider-app.js';
import { ProviderHarness } from './support/provider-harness.js';

let h: ProviderHarness;
let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  await h.close();
});

async function boot<N extends EmulatorName>(name: N, options: EmulatorOptionsByName[N] = {}) {
  h = new ProviderHarness();
  const emulator: Emulator<N> = await h.emulator(name, options);
  const started = await startProviderApp({ [name]: emulator.clientOptions() }, h.clock);
  app = started.app;
  const callApi = async () => {
    const response = await fetch(`${started.url}/call/${name}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { emulator, callApi };
}

describe.each([
  ['youhodler', { basePath: '/sandbox' }, '/sandbox/oauth/token'],
  ['palisade', { basePath: '/sandbox' }, '/sandbox/v2/credentials/oauth/token'],
  ['firstvision', { basePath: '/sandbox' }, '/sandbox/v1/api/oauth/token'],
  ['alternative-payments', {}, '/oauth/token'],
] as const)('e2e: a Nest app calls the emulated %s API through HttpService', (name, options, tokenPath) => {
  it('the call carries the provider token as `Bearer …`; the token endpoint never sees a bearer', async () => {
    const { emulator, callApi } = await boot(name, options);
    const answer = await callApi();
    expect(answer).toEqual({
      status: 200,
      body: expect.objectContaining({ ok: true, provider: name, clientId: 'test-client' }),
    });

    const [token] = emulator.issuedTokens;
    expect(emulator.resourceRequests.map((r) => r.headers.authorization)).toEqual([`Bearer ${token!.accessToken}`]);
    expect(emulator.tokenRequests.map((r) => r.path)).toEqual([tokenPath]);
    expect(emulator.tokenRequests[0]!.headers.authorization ?? '').not.toMatch(/^Bearer/i);

    await callApi();
    expect(emulator.tokenRequests).toHaveLength(1);
  });

  it('a revoked token gets a 401: the app fetches a fresh token and the call is retried once', async () => {
    const { emulator, callApi } = await boot(name, options);
    await callApi();
    emulator.revoke();
    const answer = await callApi();
    expect(answer.status).toBe(200);
    expect(emulator.tokenRequests).toHaveLength(2);
    const [first, second] = emulator.issuedTokens;
    expect(emulator.resourceRequests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${first!.accessToken}`,
      `Bearer ${first!.accessToken}`,
      `Bearer ${second!.accessToken}`,
    ]);
  });

  it('an expired token is replaced before the call goes out', async () => {
    const { emulator, callApi } = await boot(name, options);
    await callApi();
    h.clock.advance(3600_000);
    expect((await callApi()).status).toBe(200);
    expect(emulator.tokenRequests).toHaveLength(2);
    expect(emulator.resourceRequests.map((r) => r.headers.authorization)).toEqual(
      emulator.issuedTokens.map((t) => `Bearer ${t.accessToken}`),
    );
  });

  it('when no token can be had the call fails closed: the API never sees it', async () => {
    const { emulator, callApi } = await boot(name, options);
    emulator.setCredentials({ clientSecret: 'revoked-by-the-provider' });
    const answer = await callApi();
    expect(answer.status).toBe(500);
    expect(emulator.resourceRequests).toHaveLength(0);
    expect(emulator.tokenRequests).toHaveLength(1);
  });
});
