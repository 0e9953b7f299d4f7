// Runs sample/ as a user's app would run: TypeScript transpiled by swc (decorator metadata on,
// which Nest's DI needs), importing the library by its package name (resolved to ./dist).
import { transformFile } from '@swc/core';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'sample');
const out = join(root, '.sample-dist');

const swc = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

rmSync(out, { recursive: true, force: true });
for (const file of tsFiles(source)) {
  const { code } = await transformFile(file, { ...swc, filename: file });
  const target = join(out, relative(source, file)).replace(/\.ts$/, '.js');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, code);
}
await import(pathToFileURL(join(out, 'main.js')).href);
