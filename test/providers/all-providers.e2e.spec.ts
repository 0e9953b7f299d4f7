import { afterEach, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import type { ProtectedResourceAnswer } from '../../lib/testing/index.js';
import { startProviderApp } from './support/provider-app.js';
import { ProviderHarness } from './support/provider-harness.js';

let h: ProviderHarness;
let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  await h.close();
});

it('one app, all four providers: 200 concurrent calls per provider cause exactly one token request per provider', async () => {
  h = new ProviderHarness();
  const names = ['youhodler', 'palisade', 'firstvision', 'alternative-payments'] as const;
  const emulators = await Promise.all(names.map((name) => h.emulator(name, { basePath: '/api', latencyMs: 20 })));
  const started = await startProviderApp(
    Object.fromEntries(emulators.map((e) => [e.name, e.clientOptions()])),
    h.clock,
  );
  app = started.app;

  const calls = emulators.flatMap((emulator) =>
    Array.from({ length: 200 }, () =>
      lastValueFrom(started.http.get<ProtectedResourceAnswer>(`${emulator.baseUrl}/ping`)),
    ),
  );
  const answers = await Promise.all(calls);

  expect(answers.map((a) => a.data.provider)).toEqual(names.flatMap((name) => Array<string>(200).fill(name)));
  for (const emulator of emulators) {
    expect(emulator.tokenRequests).toHaveLength(1);
    expect(emulator.resourceRequests).toHaveLength(200);
    const bearer = `Bearer ${emulator.issuedTokens[0]!.accessToken}`;
    expect(new Set(emulator.resourceRequests.map((r) => r.headers.authorization))).toEqual(new Set([bearer]));
  }
});
