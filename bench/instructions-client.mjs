// Run under callgrind by bench/instructions.mjs: one client (the library, or its static-header
// baseline) of bench/subjects.mjs. Prints "ready" once booted; then each "go" line on stdin runs
// `calls` sequential calls and prints "done", so the driver can read the instruction counter
// around exactly those calls.
//   node bench/instructions-client.mjs <library|baseline> <origin> <calls> [stub]
import { createInterface } from 'node:readline';
import { stubAdapter, subjects } from './subjects.mjs';

const [side, origin, calls, stub] = process.argv.slice(2);
const env = { origin, tokenUrl: `${origin}/oauth/token`, apiUrl: `${origin}/api/data` };
const options = stub === 'stub' ? { adapter: stubAdapter } : {};
const library = subjects[0];
const client = side === 'library' ? await library.start(env, options) : await library.baseline(env, options);
const run = async () => {
  for (let i = 0; i < Number(calls); i++) await client.call();
};
await run();
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'go') break;
  await run();
  console.log('done');
}
await client.close();
