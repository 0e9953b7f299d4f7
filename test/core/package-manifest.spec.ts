import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const root = join(process.cwd());
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Bare package names a file imports (`@scope/name` or `name`), built-ins left out. */
function importedPackages(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^'.][^']*)'/g)].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s.split('/')[0]!))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('package manifest', () => {
  const declared = { ...manifest.dependencies, ...manifest.peerDependencies };

  it('declares every package lib/ imports, as a dependency or a peer', () => {
    const missing = sourceFiles(join(root, 'lib')).flatMap((file) =>
      importedPackages(file)
        .filter((name) => !(name in declared))
        .map((name) => `${file.slice(root.length + 1)} imports ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('peers cover Nest 11 and 12', () => {
    expect(manifest.peerDependencies?.['@nestjs/common']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.peerDependencies?.['@nestjs/core']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.peerDependencies?.['@nestjs/axios']).toBe('^4.0.0 || ^12.0.0');
  });

  it.each(['ioredis', 'redis'])('the main entry never reaches %s, an optional peer', (peer) => {
    expect(manifest.peerDependenciesMeta?.[peer]?.optional).toBe(true);
    const outsideRedis = sourceFiles(join(root, 'lib')).filter((f) => !f.includes(join('stores', 'redis')));
    expect(outsideRedis.filter((file) => importedPackages(file).includes(peer))).toEqual([]);
  });

  it('only the undici entry reaches undici, an optional peer', () => {
    expect(manifest.peerDependenciesMeta?.undici?.optional).toBe(true);
    const outsideUndici = sourceFiles(join(root, 'lib')).filter((f) => !f.includes(join('lib', 'undici')));
    expect(outsideUndici.filter((file) => importedPackages(file).includes('undici'))).toEqual([]);
  });

  it.each([
    ['@nestjs/terminus', join('lib', 'terminus')],
    ['@opentelemetry/api', join('lib', 'observability')],
  ])('only its own folder reaches %s, an optional peer', (peer, folder) => {
    expect(manifest.peerDependenciesMeta?.[peer]?.optional).toBe(true);
    const outside = sourceFiles(join(root, 'lib')).filter((f) => !f.includes(folder));
    expect(outside.filter((file) => importedPackages(file).includes(peer))).toEqual([]);
  });

  it('the version telemetry reports is the package version', () => {
    const constants = readFileSync(join(root, 'lib', 'oauth.constants.ts'), 'utf8');
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(constants).toContain(`export const LIBRARY_VERSION = '${version}';`);
  });

  it('every log line comes from the message catalogue (lib/observability/log-messages.ts)', () => {
    const logCall = /\blogger(?:\(\))?\.(?:log|warn|error|debug\?\.|verbose\?\.)\(\s*([^,)]+)/g;
    const offenders = sourceFiles(join(root, 'lib')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(logCall)]
        .map((m) => m[1]!.trim())
        .filter((first) => !first.startsWith('logMessages.') && first !== 'message' && first !== 'warning')
        .map((first) => `${file.slice(root.length + 1)}: ${first}`),
    );
    expect(offenders).toEqual([]);
  });
});
