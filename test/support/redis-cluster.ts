import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnRedis, terminate } from './redis-server.js';

/** One redis-server of a cluster (or of a sentinel setup), stopped by its PID. */
export interface RedisNode {
  readonly port: number;
  /** SIGKILL: the node dies without a word (a crashed machine). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and config (a cluster node rejoins as it was, or as a replica). */
  start(): Promise<void>;
  readonly running: boolean;
}

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
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterTopology> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const dir = mkdtempSync(join(tmpdir(), 'oauth-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const node = new ClusterNode(await freePort(), await freePort(), dir, nodeTimeoutMs);
      nodes.push(node);
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
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

class ClusterNode implements RedisNode {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly busPort: number,
    private readonly dir: string,
    private readonly nodeTimeoutMs: number,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.child = await spawnRedis([
      '--port',
      String(this.port),
      '--cluster-port',
      String(this.busPort),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(this.dir, `nodes-${this.port}.conf`),
      '--cluster-node-timeout',
      String(this.nodeTimeoutMs),
      // Any replica may take over, however long it was cut off; the other masters keep serving meanwhile.
      '--cluster-replica-validity-factor',
      '0',
      '--cluster-require-full-coverage',
      'no',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ]);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  stop(): Promise<void> {
    return this.child === undefined ? Promise.resolve() : terminate(this.child);
  }
}

class Topology implements RedisClusterTopology {
  readonly seeds: { host: string; port: number }[];

  constructor(
    readonly nodes: ClusterNode[],
    private readonly dir: string,
  ) {
    this.seeds = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  cli(port: number, ...args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 }, (error, stdout) =>
        error ? reject(new Error(`redis-cli ${args.join(' ')}: ${error.message}\n${stdout}`)) : resolve(stdout),
      ),
    );
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
    const giveUp = Date.now() + boundMs;
    for (;;) {
      const live = this.nodes.filter((n) => n.running);
      const states = await Promise.all(
        live.map((n) => this.cli(n.port, 'CLUSTER', 'INFO').catch((error: Error) => error.message)),
      );
      const ok = states.every((s) => s.includes('cluster_state:ok') && s.includes('cluster_slots_ok:16384'));
      if (ok) {
        const masters = await this.masters().catch(() => []);
        const covered = masters.reduce((sum, m) => sum + m.slots.reduce((n, [a, b]) => n + b - a + 1, 0), 0);
        if (covered === 16384 && masters.every((m) => live.some((n) => n.port === m.port))) return;
      }
      if (Date.now() > giveUp) throw new Error(`cluster not healthy within ${boundMs} ms:\n${states.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async waitReplicasInSync(count: number, boundMs = 30_000): Promise<void> {
    const giveUp = Date.now() + boundMs;
    for (;;) {
      const infos = await Promise.all(
        this.nodes.filter((n) => n.running).map((n) => this.cli(n.port, 'INFO', 'replication').catch(() => '')),
      );
      if (infos.filter((info) => info.includes('master_link_status:up')).length >= count) return;
      if (Date.now() > giveUp) throw new Error(`replicas not in sync within ${boundMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
