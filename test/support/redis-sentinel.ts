import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, RedisProcess, redisCli, removeTopology, topologyDir, type RedisNode } from './redis-node.js';
import { freePort, loopbackArgs, retryWhenPortTaken } from './redis-server.js';

export const SENTINEL_MASTER_NAME = 'oauth-master';

export interface RedisSentinelTopology {
  /** The redis-servers: the first starts as the master, the others as its replicas. */
  readonly servers: readonly RedisNode[];
  readonly sentinels: readonly RedisNode[];
  /** `{ host, port }` of every sentinel, what Sentinel clients take. */
  readonly sentinelAddresses: { host: string; port: number }[];
  readonly name: string;
  /** The master's port as the sentinels see it now. */
  masterPort(): Promise<number>;
  /** The server that is the master now. */
  master(): Promise<RedisNode>;
  /** Until the sentinels name a live master other than `formerPort`, and it says it is a master. */
  waitFailover(formerPort: number, boundMs?: number): Promise<number>;
  close(): Promise<void>;
}

export interface RedisSentinelOptions {
  replicas?: number;
  sentinels?: number;
  /** `down-after-milliseconds`: how soon a silent master is failed over. */
  downAfterMs?: number;
}

/**
 * A master, its replica(s) and three sentinels (quorum 2) on 127.0.0.1, all `redis-server`
 * processes (`--sentinel` for the sentinels) on free ports; config files in a temp dir removed on
 * `close`. Resolves once every sentinel knows the replicas and the other sentinels, so a failover
 * can be elected.
 */
export function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelTopology> {
  return retryWhenPortTaken(() => startSentinelOnce(options));
}

async function startSentinelOnce(options: RedisSentinelOptions): Promise<RedisSentinelTopology> {
  const replicas = options.replicas ?? 1;
  const sentinelCount = options.sentinels ?? 3;
  const downAfterMs = options.downAfterMs ?? 1_000;
  const dir = topologyDir('sentinel');
  const servers: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  try {
    const masterPort = await freePort();
    servers.push(new RedisProcess(masterPort, serverArgs(masterPort, dir, undefined)));
    for (let i = 0; i < replicas; i++) {
      const port = await freePort();
      servers.push(new RedisProcess(port, serverArgs(port, dir, masterPort)));
    }
    await Promise.all(servers.map((s) => s.start()));
    for (let i = 0; i < sentinelCount; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(new RedisProcess(port, [file, '--sentinel']));
    }
    await Promise.all(sentinels.map((s) => s.start()));
    const topology = new Topology(servers, sentinels, dir);
    await topology.waitAcquainted(replicas, sentinelCount - 1);
    return topology;
  } catch (error) {
    await removeTopology([...servers, ...sentinels], dir, 'kill');
    throw error;
  }
}

function serverArgs(port: number, dir: string, replicaOf: number | undefined): string[] {
  return [
    ...loopbackArgs(port),
    '--dir',
    dir,
    '--dbfilename',
    `dump-${port}.rdb`,
    ...(replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)]),
  ];
}

class Topology implements RedisSentinelTopology {
  readonly sentinelAddresses: { host: string; port: number }[];
  readonly name = SENTINEL_MASTER_NAME;

  constructor(
    readonly servers: RedisProcess[],
    readonly sentinels: RedisProcess[],
    private readonly dir: string,
  ) {
    this.sentinelAddresses = sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async masterPort(): Promise<number> {
    for (const sentinel of this.sentinels.filter((s) => s.running)) {
      const reply = await cli(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', this.name).catch(() => '');
      const port = Number(reply.trim().split('\n')[1]);
      if (Number.isInteger(port) && port > 0) return port;
    }
    throw new Error('no sentinel names a master');
  }

  async master(): Promise<RedisNode> {
    const port = await this.masterPort();
    const server = this.servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`the sentinels name an unknown master ${port}`);
    return server;
  }

  async waitFailover(formerPort: number, boundMs = 30_000): Promise<number> {
    let port = formerPort;
    await pollUntil(
      async () => {
        port = await this.masterPort().catch(() => formerPort);
        return port !== formerPort && (await cli(port, 'ROLE').catch(() => '')).startsWith('master');
      },
      boundMs,
      () => `no failover away from ${formerPort} within ${boundMs} ms`,
    );
    return port;
  }

  /** Until every sentinel knows `replicas` replicas and `others` other sentinels. */
  async waitAcquainted(replicas: number, others: number, boundMs = 30_000): Promise<void> {
    await pollUntil(
      async () => {
        const counts = await Promise.all(
          this.sentinels.map(async (s) => {
            const master = await cli(s.port, 'SENTINEL', 'master', this.name).catch(() => '');
            const fields = master.trim().split('\n');
            const at = (name: string) => Number(fields[fields.indexOf(name) + 1]);
            return at('num-slaves') >= replicas && at('num-other-sentinels') >= others;
          }),
        );
        return counts.every(Boolean);
      },
      boundMs,
      () => `sentinels not acquainted within ${boundMs} ms`,
    );
  }

  close(): Promise<void> {
    return removeTopology([...this.sentinels, ...this.servers], this.dir, 'stop');
  }
}

function cli(port: number, ...args: string[]): Promise<string> {
  return redisCli(port, args, 10_000);
}
