// A fleet on a Redis Cluster: 8 app processes × 200 concurrent calls on 100 cold keys, sharing a
// three-master Redis Cluster started here (redis-server and redis-cli on the PATH). Counts the
// token requests the fleet makes (target: one per key) and compares the p99 of those first calls
// with the token endpoint's own p99 latency, measured in the same run from the same processes.
// `redisFleetSection()` is called by bench/run.mjs; with REDIS_FLEET_WORKER=1 this file is one
// app process of the fleet.
import { execFile, fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmt, median, percentile, table } from './harness.mjs';

const PROCESSES = 8;
const CALLS = 200;
const KEYS = 100;
const CLIENTS = 10;
/** The token endpoint answers after this long, as a real authorization server would. */
const TOKEN_LATENCY_MS = 50;
const MODES = ['direct', 'ioredis', 'node-redis', 'no store', 'direct again'];
/**
 * Eight processes share the bench machine's cores: a process starved that long must not count Redis
 * as down (the default, 250 ms, suits a replica with a core of its own).
 */
const COMMAND_TIMEOUT_MS = 2_000;

if (process.env.REDIS_FLEET_WORKER === '1') await worker();

export async function redisFleetSection({ quick = false } = {}) {
  const heading = '## 11. A fleet on a Redis Cluster: 8 processes × 200 concurrent calls on 100 cold keys';
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    return `${heading}\n\nSkipped: no \`redis-server\` on the PATH (apt-get install redis-server).`;
  }
  const rounds = quick ? 1 : 5;
  const cluster = await startCluster();
  const endpoint = await startTokenEndpoint();
  const workers = [];
  try {
    const env = {
      ...process.env,
      REDIS_FLEET_WORKER: '1',
      LIB_DIR: fileURLToPath(new URL('../dist/esm/', import.meta.url)),
      NODES: JSON.stringify(cluster.ports.map((port) => ({ host: '127.0.0.1', port }))),
      TOKEN_URL: endpoint.url,
    };
    for (let i = 0; i < PROCESSES; i++) {
      workers.push(fork(fileURLToPath(import.meta.url), [], { env: { ...env, WORKER_INDEX: String(i) } }));
    }
    await Promise.all(workers.map((w) => next(w, 'ready')));
    const results = Object.fromEntries(MODES.map((mode) => [mode, { p99: [], requests: [], errors: 0 }]));
    for (let round = 0; round < rounds; round++) {
      // Each round in another order, so no mode always follows the same one.
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]);
      for (const mode of order) {
        const keys = Array.from({ length: KEYS }, (_, i) => [
          `c${i % CLIENTS}`,
          `r${round}-${mode.replace(/ /g, '-')}-${Math.floor(i / CLIENTS)}`,
        ]);
        const before = endpoint.requests;
        const answers = workers.map((w) => next(w, 'done'));
        for (const w of workers) w.send({ type: 'burst', mode: mode.startsWith('direct') ? 'direct' : mode, keys });
        const reports = await Promise.all(answers);
        const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
        results[mode].p99.push(percentile(latencies, 0.99));
        results[mode].requests.push(endpoint.requests - before);
        results[mode].errors += reports.reduce((n, r) => n + r.errors, 0);
      }
    }
    const baseline = median(results.direct.p99);
    const row = (label, mode, target) => {
      const requests = results[mode].requests;
      const spread =
        Math.min(...requests) === Math.max(...requests) ? '' : ` (${Math.min(...requests)}–${Math.max(...requests)})`;
      const p99 = median(results[mode].p99);
      return [
        label,
        `${median(requests)}${spread}`,
        target,
        fmt(p99),
        fmt(baseline),
        (p99 / baseline).toFixed(3),
        results[mode].errors,
      ];
    };
    return (
      `${heading}\n\n` +
      `${PROCESSES} Nest apps, each a node process of its own, share a Redis Cluster of three masters (redis-server ${redisVersion()}, started for this section on 127.0.0.1) through \`RedisTokenStore\`. At once, each process makes ${CALLS} concurrent \`getToken\` calls spread over the same ${KEYS} cold keys (${CLIENTS} clients × ${KEYS / CLIENTS} scopes, so the keys spread over the cluster's slots); a call's latency runs from the start of the burst to its token. The token endpoint (in the bench process) answers after ${TOKEN_LATENCY_MS} ms. \`commandTimeoutMs\` is ${COMMAND_TIMEOUT_MS.toLocaleString('en-US')} ms: the processes share the machine's ${os.cpus().length} cores, and a starved process must not count Redis as down. Baseline: the token endpoint's own latency, ${KEYS} direct token requests (one per key, shared among the processes, all at once, no library); the A/A control measures that baseline again. Medians over ${rounds} rounds (new keys each round, the order of the rows rotated every round); token requests are per round (the range when rounds differ). Target: ${KEYS} token requests, p99 ratio as close to 1 as the lock's polling allows.\n\n` +
      table(
        ['fleet', 'token requests', 'target', 'p99 first call ms', 'baseline p99 ms', 'p99 ratio', 'failed'],
        [
          row('A/A control: direct token requests again', 'direct again', '—'),
          row('nestjs-client-credentials, RedisTokenStore (ioredis Cluster)', 'ioredis', KEYS),
          row('nestjs-client-credentials, RedisTokenStore (node-redis cluster)', 'node-redis', KEYS),
          row('nestjs-client-credentials, no store (each process on its own)', 'no store', '—'),
        ],
      )
    );
  } finally {
    for (const w of workers) w.send({ type: 'exit' });
    await Promise.all(
      workers.map((w) => new Promise((resolve) => (w.exitCode === null ? w.once('exit', resolve) : resolve()))),
    );
    await endpoint.close();
    await cluster.close();
  }
}

function next(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type !== type) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message);
    };
    const onExit = (code) => reject(new Error(`redis-fleet worker exited (${code}) before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function redisVersion() {
  return /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function cli(port, ...args) {
  return new Promise((resolve, reject) =>
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
}

/** Three redis-servers in cluster mode, joined by `redis-cli --cluster create`. */
async function startCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-cluster-'));
  const children = [];
  const ports = [];
  try {
    for (let i = 0; i < 3; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      ports.push(port);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--cluster-port',
          String(bus),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
        ].concat([
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ]),
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
          if (out.includes('Ready to accept connections')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
      });
      child.stdout.resume();
    }
    await cli(ports[0], '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes');
    for (;;) {
      const infos = await Promise.all(ports.map((p) => cli(p, 'CLUSTER', 'INFO')));
      if (infos.every((info) => info.includes('cluster_state:ok'))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ports,
    close: async () => {
      const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children) child.kill();
      await Promise.all(exits);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A token endpoint that answers after `TOKEN_LATENCY_MS`, counting requests. */
async function startTokenEndpoint() {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: `AT-${requests}`, token_type: 'Bearer', expires_in: 3600 }));
      }, TOKEN_LATENCY_MS),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/token`,
    get requests() {
      return requests;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One process of the fleet: an app per mode (ioredis Cluster store, node-redis cluster store, no store). */
async function worker() {
  await import('reflect-metadata');
  const { LIB_DIR, NODES, TOKEN_URL, WORKER_INDEX } = process.env;
  const { Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { Cluster } = await import('ioredis');
  const { createCluster } = await import('redis');
  const lib = await import(pathToFileURL(join(LIB_DIR, 'index.js')).href);
  const { RedisTokenStore } = await import(pathToFileURL(join(LIB_DIR, 'stores', 'redis', 'index.js')).href);
  const nodes = JSON.parse(NODES);

  const ioredis = new Cluster(nodes);
  ioredis.on('error', () => undefined);
  const nodeRedis = createCluster({ rootNodes: nodes.map((socket) => ({ socket })) });
  nodeRedis.on('error', () => undefined);
  await Promise.all([ioredis.ping(), nodeRedis.connect()]);

  const clients = {};
  for (let i = 0; i < CLIENTS; i++) {
    clients[`c${i}`] = {
      strategy: 'oauth2',
      tokenUrl: TOKEN_URL,
      clientId: `bench-${i}`,
      clientSecret: 'bench-secret',
    };
  }
  const apps = {};
  const stores = { ioredis, 'node-redis': nodeRedis, 'no store': undefined };
  for (const [mode, redis] of Object.entries(stores)) {
    class AppModule {}
    const store =
      redis === undefined
        ? undefined
        : new RedisTokenStore(redis, { prefix: `bench-fleet:${mode}:`, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    Module({ imports: [lib.OAuthModule.forRoot({ logger: false, clients, ...(store ? { store } : {}) })] })(AppModule);
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    apps[mode] = { app, tokens: app.get(lib.TokenService) };
  }
  const basic = (i) => `Basic ${Buffer.from(`bench-${i}:bench-secret`).toString('base64')}`;

  process.on('message', async (message) => {
    if (message.type === 'burst') {
      const started = performance.now();
      let calls;
      if (message.mode === 'direct') {
        // This process's share of the keys, one plain token request each.
        calls = message.keys
          .filter((_, i) => i % PROCESSES === Number(WORKER_INDEX))
          .map(([client, scope]) =>
            fetch(TOKEN_URL, {
              method: 'POST',
              headers: { authorization: basic(client.slice(1)), 'content-type': 'application/x-www-form-urlencoded' },
              body: `grant_type=client_credentials&scope=${scope}`,
            }).then((res) => res.json()),
          );
      } else {
        const { tokens } = apps[message.mode];
        calls = Array.from({ length: CALLS }, (_, i) => {
          const [client, scope] = message.keys[i % message.keys.length];
          return tokens.getToken(client, { scope });
        });
      }
      const settled = await Promise.allSettled(calls.map((call) => call.then(() => performance.now() - started)));
      process.send({
        type: 'done',
        latencies: settled.filter((s) => s.status === 'fulfilled').map((s) => s.value),
        errors: settled.filter((s) => s.status === 'rejected').length,
      });
    } else if (message.type === 'exit') {
      for (const { app } of Object.values(apps)) await app.close();
      ioredis.disconnect();
      nodeRedis.destroy();
      process.disconnect();
    }
  });
  process.send({ type: 'ready' });
}
