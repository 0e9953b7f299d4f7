import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe } from '@jest/globals';

/** Whether a `redis-server` binary is on the PATH. */
export const redisServerAvailable = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * `describe` when a redis-server exists, else `describe.skip` with a printed notice. Under CI
 * (`process.env.CI`) a missing redis-server fails the suite instead of skipping it.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisServerAvailable) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    throw new Error(
      `redis-server is not installed, and CI is set: "${name}" must not be skipped. Install it (apt-get install -y redis-server).`,
    );
  }
  process.stderr.write(
    `\n[notice] redis-server not found on PATH: skipping "${name}". Install it with apt-get install -y redis-server.\n`,
  );
  describe.skip(name, body);
}

/** A throwaway redis-server on 127.0.0.1, no persistence, stopped by its PID. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL if it lingers); the port stays reserved for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port (an empty server: nothing is persisted). */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing. */
  pause(): void;
  resume(): void;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export function startRedisServer(): Promise<RedisServer> {
  return retryWhenPortTaken(async () => {
    const port = await freePort();
    let child = await launch(port);
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      get pid() {
        return child.pid;
      },
      stop: () => terminate(child),
      start: async () => {
        if (child.exitCode === null && child.signalCode === null) return;
        child = await launch(port);
      },
      pause: () => void child.kill('SIGSTOP'),
      resume: () => void child.kill('SIGCONT'),
    };
  });
}

function launch(port: number): Promise<ChildProcess> {
  return spawnRedis([...loopbackArgs(port), '--enable-debug-command', 'local']);
}

/** The arguments every throwaway redis-server here starts with: `port` on 127.0.0.1, nothing persisted. */
export function loopbackArgs(port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
}

/**
 * Starts `redis-server` with `args` (a config file first, `--sentinel` for a sentinel) and resolves
 * once it logs that it accepts connections; its output keeps being drained.
 */
export function spawnRedis(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections') || output.includes('Sentinel ID is')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume(); // keep draining so the server never blocks on a full pipe
        child.off('exit', onEarlyExit);
        resolve(child);
      }
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', onEarlyExit);
  });
}

/** SIGTERM (SIGKILL after 5 s), resolved once the process has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT'); // a paused server cannot handle SIGTERM
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs `start` again (up to three times in all) when a redis-server could not bind a port
 * `freePort` had found free: another process (often another test's client socket, whose ephemeral
 * port may be a cluster bus port) took it in between. `start` must clean up after itself. Every
 * topology here (one server, a Cluster, Sentinel) starts through it.
 */
export async function retryWhenPortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('Address already in use')) throw error;
    }
  }
}

/** A port nothing listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
