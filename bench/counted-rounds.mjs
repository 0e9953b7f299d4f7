// The client side of bench/instructions.mjs: prints "ready", then for each "go" line on stdin runs
// one round and prints "done <n>", n being the garbage collections V8 ran during it (a round with
// one is not counted: a scavenge or a mark-compact of the app's heap costs more than the calls).
import { createInterface } from 'node:readline';
import { GCProfiler } from 'node:v8';

export async function serveRounds(run) {
  await run();
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'go') break;
    const profiler = new GCProfiler();
    profiler.start();
    await run();
    console.log(`done ${profiler.stop().statistics.length}`);
  }
}
