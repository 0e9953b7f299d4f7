// Run under callgrind by bench/instructions.mjs: one client (the library, or its static-header
// baseline) of bench/subjects.mjs. Once booted, each round (bench/counted-rounds.mjs) is `calls`
// sequential calls, so the driver can read the instruction counter around exactly those calls.
//   node bench/instructions-client.mjs <library|baseline> <origin> <calls> [stub]
import { serveRounds } from './counted-rounds.mjs';
import { stubAdapter, subjects } from './subjects.mjs';

const [side, origin, calls, stub] = process.argv.slice(2);
const env = { origin, tokenUrl: `${origin}/oauth/token`, apiUrl: `${origin}/api/data` };
const options = stub === 'stub' ? { adapter: stubAdapter } : {};
const library = subjects[0];
const client = side === 'library' ? await library.start(env, options) : await library.baseline(env, options);
const run = async () => {
  for (let i = 0; i < Number(calls); i++) await client.call();
};
await serveRounds(run);
await client.close();
