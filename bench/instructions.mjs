// Counts the instructions one client process executes per call, under valgrind's callgrind: a
// figure that does not move with the load other work puts on the machine (unlike req/s).
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLIENT = fileURLToPath(new URL('./instructions-client.mjs', import.meta.url));

export function callgrindAvailable() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Instructions per call of `side` ('library' | 'baseline'), after `warmup` rounds of `calls` calls
 * (the JIT settles): the fewest over `rounds` measured rounds. V8 runs single-threaded with fixed
 * seeds (no compiler or GC threads adding their own counts) and a 64 MiB young generation, so most
 * rounds see no garbage collection at all; the fewest is the round without one (a scavenge adds
 * about a fifth to the round it falls in). What the calls allocate is measured apart (bytes/call).
 */
export async function instructionsPerCall(
  side,
  origin,
  { calls = 1000, warmup = 6, rounds = 6, stub = false, client = CLIENT } = {},
) {
  const node = [
    '--single-threaded',
    '--min-semi-space-size=64',
    '--max-semi-space-size=64',
    '--hash-seed=1',
    '--random-seed=1',
    client,
    side,
    origin,
    String(calls),
    stub ? 'stub' : '',
  ];
  const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...node], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const line = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`instructions client (${side}) ended early`);
    return value;
  };
  const counter = () => {
    const out = execFileSync('callgrind_control', ['-e', 'Ir', String(child.pid)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    // One "Th <n>  <count>" line per thread; all threads count (libuv's included).
    return [...out.matchAll(/Th\s*\d+\s+([\d,]+)/g)].reduce((sum, m) => sum + Number(m[1].replace(/,/g, '')), 0);
  };
  try {
    if ((await line()) !== 'ready') throw new Error('instructions client did not start');
    const perCall = [];
    for (let round = 0; round < warmup + rounds; round++) {
      const before = counter();
      child.stdin.write('go\n');
      await line();
      if (round >= warmup) perCall.push((counter() - before) / calls);
    }
    return Math.min(...perCall);
  } finally {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
