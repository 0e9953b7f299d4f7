import { fork, type ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { buildLib, REPO, type BuiltLib } from '../support/built-lib.js';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

/**
 * Fleet-wide single flight: 8 separate Nest apps in 8 node processes share one redis-server and
 * each make 200 concurrent getToken calls on a cold key; the token endpoint (a recording server in
 * this process) must see exactly one request, and every call must get that one token.
 *
 * The children run the library as `tsc -p tsconfig.build.json` builds it (what users run), into
 * `.redis-test/` inside the repo so that its imports resolve from the repo's node_modules.
 */
const WORKERS = 8;
const CALLS = 200;
const BOUND_MS = 60_000;

let redis: RedisServer;
let server: RecordingServer;
let built: BuiltLib | undefined;
const children: ChildProcess[] = [];
const stderr = new Map<ChildProcess, string>();

interface Done {
  type: 'done';
  fulfilled: number;
  distinct: string[];
  errors: string[];
  warnings: string[];
}

/** The next IPC message of `type` from `child`; rejects if the child exits first or after `BOUND_MS`. */
function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`worker ${child.pid}: no "${type}" within ${BOUND_MS} ms\n${stderr.get(child) ?? ''}`)),
      BOUND_MS,
    );
    const onMessage = (message: { type: string }) => message.type === type && finish(undefined, message as T);
    const onExit = (code: number | null) =>
      finish(new Error(`worker ${child.pid} exited (${code}) before "${type}"\n${stderr.get(child) ?? ''}`));
    function finish(error?: Error, message?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolvePromise(message!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

describeWithRedis('fleet-wide single flight across processes', () => {
  beforeAll(async () => {
    built = await buildLib('fleet');
    [redis, server] = await Promise.all([
      startRedisServer(),
      startRecordingServer({
        'POST /oauth/token': (_req: RecordedRequest, res: ServerResponse) =>
          json(res, 200, {
            access_token: `AT-fleet-${server.requests.length}`,
            token_type: 'Bearer',
            expires_in: 3600,
          }),
      }),
    ]);
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await server?.close();
    await redis?.stop();
    built?.remove();
  });

  it(`${WORKERS} app instances x ${CALLS} concurrent getToken calls on a cold key: exactly one token request`, async () => {
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      LIB_DIR: built!.dir,
      REDIS_URL: redis.url,
      TOKEN_URL: `${server.url}/oauth/token`,
      CALLS: String(CALLS),
      PREFIX: 'fleet:',
    };
    for (let i = 0; i < WORKERS; i++) {
      const child = fork(join(REPO, 'test', 'redis', 'fleet-worker.mjs'), [], {
        env,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      stderr.set(child, '');
      child.stderr?.on('data', (chunk: Buffer) => stderr.set(child, (stderr.get(child) ?? '') + chunk.toString()));
      children.push(child);
    }
    // Everyone boots first (Nest app, Redis connection), then all start at once.
    await Promise.all(children.map((child) => nextMessage(child, 'ready')));
    expect(server.requests).toHaveLength(0);
    const results = children.map((child) => nextMessage<Done>(child, 'done'));
    for (const child of children) child.send({ type: 'go' });
    const done = await Promise.all(results);

    expect(server.requests).toHaveLength(1);
    const only = `AT-fleet-1|`;
    for (const report of done) {
      expect(report.errors).toEqual([]);
      expect(report.fulfilled).toBe(CALLS);
      expect(report.distinct).toHaveLength(1);
      expect(report.distinct[0]!.startsWith(only)).toBe(true);
      expect(report.warnings).toEqual([]);
    }
    expect(new Set(done.map((d) => d.distinct[0])).size).toBe(1); // the same expiry everywhere too

    // Each app closes; the Redis connection it passed in is left open by the store.
    const closed = children.map((child) => nextMessage<{ type: 'closed'; redisLeftOpen: boolean }>(child, 'closed'));
    for (const child of children) child.send({ type: 'exit' });
    for (const report of await Promise.all(closed)) expect(report.redisLeftOpen).toBe(true);
    await Promise.all(children.map(exited));
  }, 180_000);
});
