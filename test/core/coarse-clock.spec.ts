import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { coarseNow } from '../../lib/common/coarse-clock.js';
import { OAuthModule, TokenService } from '../../lib/index.js';
import { closeAfterEach } from '../support/cleanup.js';
import { oauth2Client, startTokenServer } from '../http/http-support.js';

const { track } = closeAfterEach();

/** Spins (no timer) until the wall clock has moved past `ms`. */
function spinPast(ms: number): void {
  while (Date.now() <= ms);
}

describe('the coarse time of a cached-token check', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is sampled, not read: it stays put while the clock moves within one task', () => {
    const before = Date.now();
    const first = coarseNow()!;
    expect(first).toBeGreaterThanOrEqual(before);
    spinPast(first + 1);
    expect(coarseNow()).toBe(first);
    expect(Date.now()).toBeGreaterThan(first);
  });

  it('steps aside when Date is not the native one', () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'setInterval', 'setTimeout', 'nextTick', 'queueMicrotask'] });
    expect(coarseNow()).toBeUndefined();
  });

  it('never hides a jump of a faked Date: the token is judged by the clock itself', async () => {
    const server = track(await startTokenServer('coarse'));
    const moduleRef = track(
      await Test.createTestingModule({
        // The system clock (no `clock` option): the one with a coarse time.
        imports: [OAuthModule.forRoot({ logger: false, clients: { api: oauth2Client(server) } })],
      }).compile(),
    );
    const tokens = moduleRef.get(TokenService);
    expect((await tokens.getToken('api')).accessToken).toBe('coarse-1');
    expect((await tokens.getToken('api')).accessToken).toBe('coarse-1');

    // Only Date is faked: the real sockets and timers go on.
    jest.useFakeTimers({
      now: Date.now(),
      doNotFake: ['setImmediate', 'setInterval', 'setTimeout', 'clearTimeout', 'nextTick', 'queueMicrotask'],
    });
    jest.setSystemTime(Date.now() + 2 * 3600_000);
    expect((await tokens.getToken('api')).accessToken).toBe('coarse-2');
    expect(server.count).toBe(2);
  });
});
