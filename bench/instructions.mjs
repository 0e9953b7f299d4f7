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
 * (the JIT settles): the fewest over `rounds` clean rounds, measured rounds being run until that
 * many are clean (at most four times as many). A clean round is one in which V8 ran no garbage
 * collection (the client says: bench/counted-rounds.mjs) and no other thread did work: a scavenge
 * adds a fifth to a round, a mark-compact of the app's heap 30×, and a background compile lands on
 * whichever round its thread is scheduled in, which under load is any of them.
 *
 * V8 runs single-threaded with fixed seeds and a 64 MiB young generation, and nothing in it runs on
 * the clock: under valgrind a round takes 50× its native time, and V8 ran incremental marking from
 * a task (the memory reducer starts it on a wall-clock timer), in a round or across several,
 * without a collection the client could see; the calls then ran with marking barriers and steps,
 * which tripled the count under load. Without incremental marking, a collection is whole and seen.
 * WebAssembly stays on its baseline compiler (`--liftoff-only`): Node's fetch and undici parse HTTP
 * with llhttp, a Wasm module that V8 otherwise recompiles on a platform thread (~400 M
 * instructions) even single-threaded. What the calls allocate is measured apart (bytes/call).
 */
export async function instructionsPerCall(
  side,
  origin,
  { calls = 1000, warmup = 6, rounds = 6, stub = false, client = CLIENT } = {},
) {
  const node = [
    '--single-threaded',
    '--liftoff-only',
    '--no-memory-reducer',
    '--no-incremental-marking',
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
  /** Instructions so far, one count per thread, the main thread first. */
  const counts = () => {
    const out = execFileSync('callgrind_control', ['-e', 'Ir', String(child.pid)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    return [...out.matchAll(/Th\s*\d+\s+([\d,]+)/g)].map((m) => Number(m[1].replace(/,/g, '')));
  };
  try {
    if ((await line()) !== 'ready') throw new Error('instructions client did not start');
    const clean = [];
    const mostRounds = rounds * 4;
    for (let round = 0; round < warmup + mostRounds && clean.length < rounds; round++) {
      const before = counts();
      child.stdin.write('go\n');
      const collections = Number((await line()).split(' ')[1]);
      const [main, ...others] = counts().map((count, thread) => count - (before[thread] ?? 0));
      // A woken timer thread's few thousand instructions are noise, not work.
      const othersWorked = others.reduce((sum, n) => sum + n, 0) > main / 100;
      if (round >= warmup && collections === 0 && !othersWorked) clean.push(main / calls);
    }
    if (clean.length === 0) throw new Error(`instructions client (${side}): no clean round in ${mostRounds}`);
    return Math.min(...clean);
  } finally {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
