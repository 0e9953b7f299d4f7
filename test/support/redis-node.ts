import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRedis, terminate } from './redis-server.js';

/**
 * What the multi-process topologies (test/support/redis-cluster.ts, redis-sentinel.ts) are made of:
 * redis-server processes started with fixed arguments, `redis-cli`, a temp dir, and a wait bounded in time.
 */

/** One redis-server of a cluster (or of a sentinel setup), stopped by its PID. */
export interface RedisNode {
  readonly port: number;
  /** SIGKILL: the node dies without a word (a crashed machine). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and config (a cluster node rejoins as it was, or as a replica). */
  start(): Promise<void>;
  readonly running: boolean;
}

/** A redis-server (or sentinel) always started with the same `args`; `stop` ends it gently, `kill` does not. */
export class RedisProcess implements RedisNode {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (!this.running) this.child = await spawnRedis(this.args);
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

/** A temp dir for a topology's config and data files; `removeTopology` deletes it. */
export function topologyDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `oauth-redis-${name}-`));
}

/**
 * Ends every process of a topology and deletes its dir: `stop` on close, `kill` when its start failed
 * half-way.
 */
export async function removeTopology(
  processes: readonly RedisProcess[],
  dir: string,
  end: 'stop' | 'kill',
): Promise<void> {
  await Promise.all(processes.map((node) => node[end]()));
  rmSync(dir, { recursive: true, force: true });
}

/** Runs `redis-cli` against 127.0.0.1:`port` with `args`; its output. */
export function redisCli(port: number, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs }, (error, stdout) =>
      error ? reject(new Error(`redis-cli ${args.join(' ')}: ${error.message}\n${stdout}`)) : resolve(stdout),
    ),
  );
}

/** Asks `done` every 100 ms until it says yes; throws `failure()` once `boundMs` have passed without. */
export async function pollUntil(done: () => Promise<boolean>, boundMs: number, failure: () => string): Promise<void> {
  const giveUp = Date.now() + boundMs;
  for (;;) {
    if (await done()) return;
    if (Date.now() > giveUp) throw new Error(failure());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
