import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './built-lib.js';

/** How a worker connects (see test/redis/fleet-worker.mjs). */
export type FleetRedis =
  | { kind: 'ioredis' | 'node-redis'; url: string }
  | { kind: 'ioredis-cluster' | 'node-redis-cluster'; nodes: { host: string; port: number }[] }
  | { kind: 'ioredis-sentinel'; sentinels: { host: string; port: number }[]; name: string };

export interface FleetOptions {
  libDir: string;
  /** One for every worker, or a list the workers take in turn (a fleet mixing client libraries). */
  redis: FleetRedis | FleetRedis[];
  tokenUrl: string;
  prefix: string;
  workers: number;
  clients?: number;
  commandTimeoutMs?: number;
  lockTtlMs?: number;
}

/** A cache key as the worker names it: [client, scope]. */
export type FleetKey = [string, string];

export interface BurstReport {
  fulfilled: number;
  errors: string[];
  /** `client|scope` → the distinct access tokens this worker's calls got. */
  tokens: Record<string, string[]>;
  latencies: number[];
  warnings: string[];
}

export interface TrafficReport {
  calls: number;
  errors: string[];
  /** Tokens served past their expiry. */
  expired: number;
  distinct: number;
}

const BOUND_MS = 60_000;

/** App replicas in separate node processes, driven over IPC (test/redis/fleet-worker.mjs). */
export class Fleet {
  private readonly stderr = new Map<ChildProcess, string>();

  private constructor(readonly workers: ChildProcess[]) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const redis = Array.isArray(options.redis) ? options.redis : [options.redis];
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      LIB_DIR: options.libDir,
      TOKEN_URL: options.tokenUrl,
      PREFIX: options.prefix,
      CLIENTS: String(options.clients ?? 1),
      COMMAND_TIMEOUT_MS: String(options.commandTimeoutMs ?? 5_000),
      LOCK_TTL_MS: options.lockTtlMs === undefined ? '' : String(options.lockTtlMs),
    };
    const workers = Array.from({ length: options.workers }, (_, i) =>
      fork(join(REPO, 'test', 'redis', 'fleet-worker.mjs'), [], {
        env: { ...env, REDIS: JSON.stringify(redis[i % redis.length]) },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      }),
    );
    const fleet = new Fleet(workers);
    for (const worker of workers) {
      fleet.stderr.set(worker, '');
      worker.stderr?.on('data', (chunk: Buffer) =>
        fleet.stderr.set(worker, fleet.stderr.get(worker) + chunk.toString()),
      );
    }
    try {
      await Promise.all(workers.map((worker) => fleet.next(worker, 'ready')));
    } catch (error) {
      await fleet.kill();
      throw error;
    }
    return fleet;
  }

  /** Every worker makes `calls` concurrent calls over `keys` at the same moment. */
  burst(keys: FleetKey[], calls: number): Promise<BurstReport[]> {
    return this.ask<BurstReport>({ type: 'burst', keys, calls }, 'burst-done');
  }

  async startTraffic(keys: FleetKey[]): Promise<void> {
    await this.ask({ type: 'traffic', keys }, 'traffic-started');
  }

  stopTraffic(): Promise<TrafficReport[]> {
    return this.ask<TrafficReport>({ type: 'stop' }, 'traffic-done');
  }

  /** Whether each worker's store is down now (each first probes Redis). */
  async storesDown(): Promise<boolean[]> {
    return (await this.ask<{ storeDown: boolean }>({ type: 'status' }, 'status')).map((s) => s.storeDown);
  }

  /** Closes every app; whether each left its own Redis connection open. */
  async exit(): Promise<boolean[]> {
    const closed = await this.ask<{ redisLeftOpen: boolean }>({ type: 'exit' }, 'closed');
    await Promise.all(this.workers.map(exited));
    return closed.map((c) => c.redisLeftOpen);
  }

  async kill(): Promise<void> {
    for (const worker of this.workers)
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await Promise.all(this.workers.map(exited));
  }

  private ask<T>(message: object, answer: string): Promise<T[]> {
    const answers = this.workers.map((worker) => this.next<T>(worker, answer));
    for (const worker of this.workers) worker.send(message);
    return Promise.all(answers);
  }

  /** The next IPC message of `type` from `worker`; rejects if it exits first or after `BOUND_MS`. */
  private next<T>(worker: ChildProcess, type: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`worker ${worker.pid}: no "${type}" within ${BOUND_MS} ms\n${this.stderr.get(worker)}`)),
        BOUND_MS,
      );
      const onMessage = (message: { type: string }) => message.type === type && finish(undefined, message as T);
      const onExit = (code: number | null) =>
        finish(new Error(`worker ${worker.pid} exited (${code}) before "${type}"\n${this.stderr.get(worker)}`));
      const finish = (error?: Error, message?: T) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (error) reject(error);
        else resolve(message!);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `count` keys over `clients` clients (c0…), so that they spread over a cluster's slots. */
export function fleetKeys(clients: number, count: number, scopePrefix: string): FleetKey[] {
  return Array.from({ length: count }, (_, i) => [`c${i % clients}`, `${scopePrefix}${Math.floor(i / clients)}`]);
}
