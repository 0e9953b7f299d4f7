import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

/** `ioredis` is an optional peer: only the `./redis` entry (lib/stores/redis) may import it. */
describe('the redis entry point', () => {
  it('nothing outside lib/stores/redis imports ioredis', () => {
    const root = join(process.cwd(), 'lib');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !relative(root, path).startsWith(join('stores', 'redis'))) {
          if (
            /from\s+['"]ioredis['"]|import\(\s*['"]ioredis['"]|require\(\s*['"]ioredis['"]/.test(
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

  it('exports RedisTokenStore and nothing unexpected', async () => {
    const entry = await import('../../lib/stores/redis/index.js');
    expect(Object.keys(entry).sort()).toEqual(['RedisTokenStore']);
  });
});
