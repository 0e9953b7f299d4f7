import { join } from 'node:path';
import { pollUntil, RedisProcess, redisCli, removeTopology, topologyDir, type RedisNode } from './redis-node.js';
import { freePort, loopbackArgs, retryWhenPortTaken } from './redis-server.js';

export interface RedisClusterTopology {
  readonly nodes: readonly RedisNode[];
  /** `{ host, port }` of every node, what cluster clients take as seeds. */
  readonly seeds: { host: string; port: number }[];
  /** Ask any live node: the current masters' ports, each with the slots it serves. */
  masters(): Promise<{ port: number; slots: [number, number][] }[]>;
  /** The node serving `key`'s slot now. */
  masterFor(key: string): Promise<RedisNode>;
  /** Until every slot is served by a live master and every node agrees (`cluster_state:ok`). */
  waitHealthy(boundMs?: number): Promise<void>;
  /** Runs `redis-cli` against `port` with `args`; its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
  /** Replicas per master (1 where failover is tested). */
  replicas?: number;
  /** `cluster-node-timeout`: how soon a silent master is failed over. */
  nodeTimeoutMs?: number;
}

/**
 * A Redis Cluster on 127.0.0.1: `masters × (1 + replicas)` redis-servers on free ports (the bus port
 * of each chosen free too, with `cluster-port`), joined by `redis-cli --cluster create`. No
 * persistence; the nodes' config files live in a temp dir removed on `close`.
 */
export function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterTopology> {
  return retryWhenPortTaken(() => startClusterOnce(options));
}

async function startClusterOnce(options: RedisClusterOptions): Promise<RedisClusterTopology> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const dir = topologyDir('cluster');
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort();
      nodes.push(new RedisProcess(port, clusterNodeArgs(port, await freePort(), dir, nodeTimeoutMs)));
    }
    await Promise.all(nodes.map((node) => node.start()));
    const topology = new Topology(nodes, dir);
    await topology.cli(
      nodes[0]!.port,
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    );
    await topology.waitHealthy();
    if (replicas > 0) await topology.waitReplicasInSync(masters * replicas);
    return topology;
  } catch (error) {
    await removeTopology(nodes, dir, 'kill');
    throw error;
  }
}

function clusterNodeArgs(port: number, busPort: number, dir: string, nodeTimeoutMs: number): string[] {
  return [
    ...loopbackArgs(port),
    '--cluster-port',
    String(busPort),
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    // Any replica may take over, however long it was cut off; the other masters keep serving meanwhile.
    '--cluster-replica-validity-factor',
    '0',
    '--cluster-require-full-coverage',
    'no',
    '--dir',
    dir,
  ];
}

class Topology implements RedisClusterTopology {
  readonly seeds: { host: string; port: number }[];

  constructor(
    readonly nodes: RedisProcess[],
    private readonly dir: string,
  ) {
    this.seeds = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  cli(port: number, ...args: string[]): Promise<string> {
    return redisCli(port, args, 30_000);
  }

  async masters(): Promise<{ port: number; slots: [number, number][] }[]> {
    for (const node of this.nodes.filter((n) => n.running)) {
      let text: string;
      try {
        text = await this.cli(node.port, 'CLUSTER', 'NODES');
      } catch {
        continue;
      }
      return text
        .split('\n')
        .map((line) => line.trim().split(' '))
        .filter((fields) => fields.length >= 8 && fields[2]!.includes('master') && !fields[2]!.includes('fail'))
        .map((fields) => ({
          port: Number(fields[1]!.split('@')[0]!.split(':')[1]),
          slots: fields
            .slice(8)
            .filter((range) => !range.startsWith('['))
            .map((range) => {
              const [from, to] = range.split('-').map(Number);
              return [from!, to ?? from!] as [number, number];
            }),
        }))
        .filter((master) => master.slots.length > 0);
    }
    throw new Error('no cluster node answers');
  }

  async masterFor(key: string): Promise<RedisNode> {
    const live = this.nodes.find((n) => n.running)!;
    const slot = Number((await this.cli(live.port, 'CLUSTER', 'KEYSLOT', key)).trim());
    const master = (await this.masters()).find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
    const node = this.nodes.find((n) => n.port === master?.port);
    if (node === undefined) throw new Error(`no master serves slot ${slot}`);
    return node;
  }

  async waitHealthy(boundMs = 30_000): Promise<void> {
    let states: string[] = [];
    await pollUntil(
      async () => {
        const live = this.nodes.filter((n) => n.running);
        states = await Promise.all(
          live.map((n) => this.cli(n.port, 'CLUSTER', 'INFO').catch((error: Error) => error.message)),
        );
        if (!states.every((s) => s.includes('cluster_state:ok') && s.includes('cluster_slots_ok:16384'))) return false;
        const masters = await this.masters().catch(() => []);
        const covered = masters.reduce((sum, m) => sum + m.slots.reduce((n, [a, b]) => n + b - a + 1, 0), 0);
        return covered === 16384 && masters.every((m) => live.some((n) => n.port === m.port));
      },
      boundMs,
      () => `cluster not healthy within ${boundMs} ms:\n${states.join('\n')}`,
    );
  }

  async waitReplicasInSync(count: number, boundMs = 30_000): Promise<void> {
    await pollUntil(
      async () => {
        const infos = await Promise.all(
          this.nodes.filter((n) => n.running).map((n) => this.cli(n.port, 'INFO', 'replication').catch(() => '')),
        );
        return infos.filter((info) => info.includes('master_link_status:up')).length >= count;
      },
      boundMs,
      () => `replicas not in sync within ${boundMs} ms`,
    );
  }

  close(): Promise<void> {
    return removeTopology(this.nodes, this.dir, 'stop');
  }
}
