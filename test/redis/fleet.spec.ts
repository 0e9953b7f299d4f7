import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { buildLib, type BuiltLib } from '../support/built-lib.js';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';
import { startRedisCluster, type RedisClusterTopology } from '../support/redis-cluster.js';
import { Fleet, fleetKeys, type BurstReport, type FleetKey, type FleetRedis } from '../support/redis-fleet.js';
import type { RedisNode } from '../support/redis-node.js';
import { startRedisSentinel, type RedisSentinelTopology } from '../support/redis-sentinel.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

/**
 * Fleets of separate Nest apps, one per node process, on real topologies started here: one
 * redis-server, a Redis Cluster (three masters, a replica each) and a master + replica watched by
 * three sentinels. While healthy, each cold key costs the fleet exactly one token request. When a
 * master is killed mid-traffic, every call still gets a token, none is expired, the token requests
 * stay bounded, and once the topology has recovered a cold key costs one request again.
 *
 * The children run the library as `tsc -p tsconfig.build.json` builds it (what users run), into
 * `.redis-test/` inside the repo so that its imports resolve from the repo's node_modules.
 */
const CLIENTS = 10;
/** Tokens during traffic live this long, so replicas refresh them while a master is down. */
const SHORT_LIFETIME_S = 4;
/** A replica's in-process single flight fetches a key at most once per refresh (75% of the servable half). */
const REFRESH_MS = 0.75 * (SHORT_LIFETIME_S / 2) * 1000;

let built: BuiltLib | undefined;
let server: RecordingServer;
let lifetimeS = 3600;
let fleet: Fleet | undefined;
let testNo = 0;
let prefix: string;
const topologies: { close(): Promise<void> }[] = [];

/**
 * Token requests for the scopes of `keys`. Counted by scope, not as a difference of totals: a live
 * key's background refresh, started by the traffic's last calls, may reach the server mid-burst.
 */
function requestsFor(keys: FleetKey[]): number {
  const scopes = new Set(keys.map(([, scope]) => scope));
  return server.requests.filter((r) => scopes.has(new URLSearchParams(r.body).get('scope') ?? '')).length;
}

/** Every worker's calls on each key got the same single token, and the fleet asked once per key. */
function expectOnePerKey(reports: BurstReport[], keys: FleetKey[], calls: number): void {
  for (const report of reports) {
    expect(report.errors).toEqual([]);
    expect(report.fulfilled).toBe(calls);
  }
  for (const [client, scope] of keys) {
    const seen = [...new Set(reports.flatMap((r) => r.tokens[`${client}|${scope}`] ?? []))];
    // On failure, the warnings say which replicas fell back to fetching on their own, and why.
    expect({
      key: `${client}|${scope}`,
      tokens: seen.length,
      warnings: seen.length === 1 ? [] : reports.map((r) => r.warnings),
    }).toEqual({ key: `${client}|${scope}`, tokens: 1, warnings: [] });
  }
  expect(requestsFor(keys)).toBe(keys.length);
}

async function until(condition: () => Promise<boolean>, boundMs: number, what: string): Promise<void> {
  const giveUp = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > giveUp) throw new Error(`${what}: not reached within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Cold keys (one request each), then traffic on short-lived tokens while `kill` takes a master
 * down and `recovered` waits for the topology to heal, then cold keys again (one request each).
 */
async function survivesAFailover(
  redis: FleetRedis,
  kill: () => Promise<void>,
  recovered: () => Promise<void>,
): Promise<void> {
  fleet = await Fleet.start({
    libDir: built!.dir,
    redis,
    tokenUrl: `${server.url}/oauth/token`,
    prefix,
    workers: 4,
    clients: CLIENTS,
    commandTimeoutMs: 500,
    lockTtlMs: 2_000,
  });
  const cold = fleetKeys(CLIENTS, 20, 'cold');
  expectOnePerKey(await fleet.burst(cold, 100), cold, 100);

  lifetimeS = SHORT_LIFETIME_S;
  const live = fleetKeys(CLIENTS, 10, 'live');
  await fleet.startTraffic(live);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const beforeKill = server.requests.length;
  const killedAt = Date.now();
  await kill();
  await recovered();
  // Every store has probed Redis successfully again.
  await until(async () => (await fleet!.storesDown()).every((down) => !down), 20_000, 'stores recovered');
  const traffic = await fleet.stopTraffic();
  const windowMs = Date.now() - killedAt;
  for (const report of traffic) {
    expect(report.errors).toEqual([]); // no call without a token
    expect(report.expired).toBe(0); // no expired token served
    expect(report.calls).toBeGreaterThan(0);
  }
  // Bounded: at worst each replica fetched each key once per refresh on its own while cut off.
  const bound = fleet.workers.length * live.length * (Math.ceil(windowMs / REFRESH_MS) + 1);
  expect(server.requests.length - beforeKill).toBeLessThanOrEqual(bound);

  lifetimeS = 3600;
  const after = fleetKeys(CLIENTS, 20, 'after');
  expectOnePerKey(await fleet.burst(after, 100), after, 100);
  expect(await fleet.exit()).toEqual(fleet.workers.map(() => true));
  fleet = undefined;
}

describeWithRedis('fleets of app processes on one server, a Cluster and Sentinel', () => {
  beforeAll(async () => {
    built = await buildLib('fleet');
    server = await startRecordingServer({
      'POST /oauth/token': (_req: RecordedRequest, res: ServerResponse) =>
        json(res, 200, {
          access_token: `AT-${server.requests.length}-${Date.now() + lifetimeS * 1000}`,
          token_type: 'Bearer',
          expires_in: lifetimeS,
        }),
    });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await Promise.all(topologies.map((t) => t.close()));
    built?.remove();
  });
  beforeEach(() => {
    prefix = `fleet${++testNo}:`;
    lifetimeS = 3600;
    server.requests.length = 0;
  });
  afterEach(async () => {
    await fleet?.kill();
    fleet = undefined;
  });

  it('one server, 8 apps (ioredis and node-redis in turn) x 200 concurrent calls on a cold key: one token request', async () => {
    const redis: RedisServer = await startRedisServer();
    topologies.push({ close: () => redis.stop() });
    fleet = await Fleet.start({
      libDir: built!.dir,
      redis: [
        { kind: 'ioredis', url: redis.url },
        { kind: 'node-redis', url: redis.url },
      ],
      tokenUrl: `${server.url}/oauth/token`,
      prefix,
      workers: 8,
    });
    expect(server.requests).toHaveLength(0);
    const key: FleetKey[] = [['c0', 'read']];
    const reports = await fleet.burst(key, 200);
    expectOnePerKey(reports, key, 200);
    for (const report of reports) expect(report.warnings).toEqual([]);
    // Each app closes; the Redis connection it passed in is left open by the store.
    expect(await fleet.exit()).toEqual(Array.from({ length: 8 }, () => true));
    fleet = undefined;
  }, 120_000);

  describe('a Redis Cluster, three masters with a replica each', () => {
    let cluster: RedisClusterTopology;
    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1_000 });
      topologies.push(cluster);
    }, 60_000);

    /** Kills one of the masters that has a live replica. */
    async function killAMaster(): Promise<RedisNode> {
      const masters = await cluster.masters();
      const withReplica = cluster.nodes.filter((n) => n.running && masters.some((m) => m.port === n.port));
      const victim = withReplica[testNo % withReplica.length]!;
      await victim.kill();
      return victim;
    }
    const recovered = async () => {
      await cluster.waitHealthy(30_000);
    };

    it.each<['ioredis-cluster' | 'node-redis-cluster']>([['ioredis-cluster'], ['node-redis-cluster']])(
      '%s: one request per key; a master killed mid-traffic: tokens all along, none expired, bounded requests',
      async (kind) => {
        await survivesAFailover({ kind, nodes: cluster.seeds }, async () => void (await killAMaster()), recovered);
      },
      120_000,
    );
  });

  describe('Sentinel: a master and a replica, three sentinels', () => {
    let sentinel: RedisSentinelTopology;
    beforeAll(async () => {
      sentinel = await startRedisSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1_000 });
      topologies.push(sentinel);
    }, 60_000);

    it('ioredis: one request per key; the master killed mid-traffic: tokens all along, none expired, bounded requests', async () => {
      let former = 0;
      await survivesAFailover(
        { kind: 'ioredis-sentinel', sentinels: sentinel.sentinelAddresses, name: sentinel.name },
        async () => {
          const master = await sentinel.master();
          former = master.port;
          await master.kill();
        },
        async () => void (await sentinel.waitFailover(former, 30_000)),
      );
    }, 120_000);
  });
});
