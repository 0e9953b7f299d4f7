import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

/**
 * `ioredis` and `redis` (node-redis) are optional peers: only the `./redis` entry (lib/stores/redis)
 * may import them, and it loads ioredis only when it makes a connection from options.
 */
describe('the redis entry point', () => {
  it('nothing outside lib/stores/redis imports ioredis or redis', () => {
    const root = join(process.cwd(), 'lib');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !relative(root, path).startsWith(join('stores', 'redis'))) {
          if (
            /from\s+['"](io)?redis['"]|import\(\s*['"](io)?redis['"]|require\(\s*['"](io)?redis['"]/.test(
              readFileSync(path, 'utf8'),
            )
          )
            offenders.push(relative(root, path));
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });

  it('the entry imports ioredis for types only; the one runtime import is the dynamic one for options', () => {
    const dir = join(process.cwd(), 'lib', 'stores', 'redis');
    const runtime = readdirSync(dir)
      .map((name) => readFileSync(join(dir, name), 'utf8'))
      .flatMap((source) => [...source.matchAll(/^import (?!type )[^;]*from '(io)?redis';$/gm)].map((m) => m[0]));
    expect(runtime).toEqual([]);
    const dynamic = readdirSync(dir).filter((name) =>
      readFileSync(join(dir, name), 'utf8').includes("import('ioredis')"),
    );
    expect(dynamic).toEqual(['ioredis-commands.ts']);
  });

  it('exports RedisTokenStore and nothing unexpected', async () => {
    const entry = await import('../../lib/stores/redis/index.js');
    expect(Object.keys(entry).sort()).toEqual(['RedisTokenStore']);
  });
});
