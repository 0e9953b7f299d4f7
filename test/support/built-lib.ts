import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(process.cwd());

/** The library as `tsc -p tsconfig.build.json` builds it (what users run), for child processes. */
export interface BuiltLib {
  /** Holds `index.js`; inside the repo, so its imports resolve from the repo's node_modules. */
  dir: string;
  remove(): void;
}

export async function buildLib(name: string): Promise<BuiltLib> {
  const dir = join(REPO, '.redis-test', `${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [
    '-p',
    'tsconfig.build.json',
    '--outDir',
    dir,
    '--declaration',
    'false',
    '--declarationMap',
    'false',
    '--sourceMap',
    'false',
    '--inlineSources',
    'false',
  ];
  await new Promise<void>((done, reject) =>
    execFile(
      process.execPath,
      [tsc, ...args],
      { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout) => (error ? reject(new Error(`tsc build failed:\n${stdout}`)) : done()),
    ),
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
