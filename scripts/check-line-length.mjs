// `npm run lint` part: no line of the library's source is longer than 120 characters (Prettier
// wraps code at 120 but leaves long strings and comments alone).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 120;
const tooLong = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => line.length > MAX && tooLong.push(`${path}:${i + 1} (${line.length})`));
    }
  }
};
walk('lib');
if (tooLong.length > 0) {
  console.error(`Lines over ${MAX} characters in lib/:\n${tooLong.join('\n')}`);
  process.exit(1);
}
