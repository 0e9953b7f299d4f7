import 'reflect-metadata';
import { fork } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { jwkThumbprint } from '../../lib/client-auth/jwk-thumbprint.js';
import { buildLib, REPO, type BuiltLib } from '../support/built-lib.js';
import { json, startRecordingServer, type RecordingServer } from '../support/recording-server.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

/**
 * The DPoP key's thumbprint is part of the cache key: replicas (separate processes, one real
 * redis-server) configured with the same key share a DPoP token through the store; a replica with
 * another key, or with a key made at boot, never gets it.
 */
interface Done {
  type: 'done';
  accessToken?: string;
  tokenType?: string;
  error?: string;
}

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

describeWithRedis('DPoP tokens through Redis', () => {
  let built: BuiltLib | undefined;
  let redis: RedisServer;
  let server: RecordingServer;
  /** The key thumbprint each token was bound to, as the token endpoint saw the proof. */
  const boundTo = new Map<string, string>();

  beforeAll(async () => {
    [built, redis] = await Promise.all([buildLib('dpop'), startRedisServer()]);
    server = await startRecordingServer({
      'POST /token': (req, res) => {
        const proof = String(req.headers.dpop ?? '');
        const header = JSON.parse(Buffer.from(proof.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
          jwk: JsonWebKey;
        };
        const jkt = jwkThumbprint(createPublicKey({ key: header.jwk, format: 'jwk' }));
        const token = `dpop-token-${boundTo.size + 1}`;
        boundTo.set(token, jkt);
        json(res, 200, { access_token: token, token_type: 'DPoP', expires_in: 3600 });
      },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await redis?.stop();
    built?.remove();
  });

  function replica(dpopKey: string): Promise<Done> {
    const child = fork(join(REPO, 'test', 'dpop', 'dpop-replica-worker.mjs'), [], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        LIB_DIR: built!.dir,
        REDIS_URL: redis.url,
        TOKEN_URL: `${server.url}/token`,
        DPOP_KEY: dpopKey,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new Promise<Done>((resolve, reject) => {
      child.once('message', (message) => resolve(message as Done));
      child.once('exit', (code) => reject(new Error(`replica exited (${code}) without reporting`)));
    }).finally(
      () => new Promise<void>((done) => (child.exitCode === null ? child.once('exit', () => done()) : done())),
    );
  }

  it('same key: one token for both replicas; another key or a key made at boot: a token of its own', async () => {
    const shared = pem();
    const first = await replica(shared);
    const second = await replica(shared);
    expect(first).toMatchObject({ tokenType: 'DPoP', accessToken: 'dpop-token-1' });
    expect(second).toMatchObject({ tokenType: 'DPoP', accessToken: 'dpop-token-1' });
    expect(server.requests).toHaveLength(1);

    const other = await replica(pem());
    expect(other).toMatchObject({ tokenType: 'DPoP', accessToken: 'dpop-token-2' });
    const generated = await replica('');
    expect(generated).toMatchObject({ tokenType: 'DPoP', accessToken: 'dpop-token-3' });
    expect(server.requests).toHaveLength(3);
    // Each token was bound (by the proof on its token request) to a different key.
    expect(new Set(boundTo.values()).size).toBe(3);
  }, 120_000);
});
