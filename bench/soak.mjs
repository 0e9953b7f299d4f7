// `npm run soak`: a bounded soak of the built library (dist/esm).
//
// 1-second tokens, 50 concurrent callers making HttpService GETs for SOAK_SECONDS (default 60), the
// token endpoint failing 10% of its requests at random (503). The protected API, in its own
// process, counts every call that arrives without a token or with an expired one. Passes when:
//   - no call reached the API without a token, and none with an expired token;
//   - every call either succeeded or failed closed with TokenRequestError (never sent);
//   - the heap after gc() is flat: the last reading is within 10% (min 4 MiB) of the one taken after
//     the warm-up.
// Exits 1 on failure. Run with `node --expose-gc`.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import { OAuthModule, TokenRequestError } from '../dist/esm/index.js';
import { startUpstream } from './harness.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CALLERS = 50;
const WARMUP_SECONDS = Math.min(10, SECONDS / 4);
if (typeof globalThis.gc !== 'function') {
  console.error('soak: run with node --expose-gc');
  process.exit(2);
}

const env = await startUpstream();
let exitCode = 1;
try {
  await env.control({ expiresIn: 1, tokenDelayMs: 5, failureRate: 0.1 });
  class SoakModule {}
  Module({
    imports: [
      HttpModule,
      OAuthModule.forRoot({
        logger: false,
        clients: {
          api: {
            strategy: 'oauth2',
            tokenUrl: env.tokenUrl,
            clientId: 'soak',
            clientSecret: 'soak-secret',
            attachTo: [`${env.origin}/api`],
          },
        },
      }),
    ],
  })(SoakModule);
  const app = await NestFactory.createApplicationContext(SoakModule, { logger: false });
  const http = app.get(HttpService);

  const counts = { ok: 0, failedClosed: 0, unexpected: 0 };
  const unexpected = new Map();
  const heap = [];
  const readHeap = () => {
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };

  const started = Date.now();
  const end = started + SECONDS * 1000;
  const caller = async () => {
    while (Date.now() < end) {
      try {
        await firstValueFrom(http.get(env.apiUrl));
        counts.ok++;
      } catch (error) {
        if (error instanceof TokenRequestError) counts.failedClosed++;
        else {
          counts.unexpected++;
          const key = `${error?.name}: ${error?.response?.status ?? error?.code ?? error?.message}`;
          unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
        }
      }
    }
  };
  const sampler = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed >= WARMUP_SECONDS) heap.push(readHeap());
    console.log(
      `soak ${elapsed.toFixed(0)} s: ${counts.ok} ok, ${counts.failedClosed} failed closed, ${counts.unexpected} unexpected, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`,
    );
  }, 5000);
  await Promise.all(Array.from({ length: CALLERS }, caller));
  clearInterval(sampler);
  heap.push(readHeap());
  const stats = await env.stats();
  await app.close();

  const first = heap[0];
  const last = heap[heap.length - 1];
  const allowance = Math.max(4 * 2 ** 20, first * 0.1);
  const checks = [
    ['calls reached the API without a token', stats.apiNoToken, stats.apiNoToken === 0],
    ['calls reached the API with an expired token', stats.apiExpired, stats.apiExpired === 0],
    ['calls failed other than closed (TokenRequestError)', counts.unexpected, counts.unexpected === 0],
    ['successful calls', counts.ok, counts.ok > 0],
    ['token endpoint failures injected', `${stats.tokenFailures} of ${stats.tokenRequests}`, stats.tokenFailures > 0],
    [
      'heap after gc(): after warm-up → end (MiB)',
      `${(first / 2 ** 20).toFixed(1)} → ${(last / 2 ** 20).toFixed(1)} (allowance ${(allowance / 2 ** 20).toFixed(1)})`,
      heap.length >= 2 && last - first <= allowance,
    ],
  ];
  console.log(`\nsoak: ${SECONDS} s, ${CALLERS} callers, 1-second tokens, 10% token endpoint failures`);
  console.log(`  calls: ${counts.ok} ok, ${counts.failedClosed} failed closed (TokenRequestError, never sent)`);
  for (const [what, value, ok] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${what}: ${value}`);
  for (const [what, n] of unexpected) console.log(`  unexpected: ${what} ×${n}`);
  exitCode = checks.every(([, , ok]) => ok) ? 0 : 1;
} catch (error) {
  console.error('soak: crashed', error);
} finally {
  await env.stop();
}
process.exit(exitCode);
