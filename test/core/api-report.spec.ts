import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ExtractorConfig } from '@microsoft/api-extractor';

/**
 * Every entry point in package.json "exports" has an API Extractor config reading its ESM
 * declarations and a checked-in report in api/ (`npm run api:check` compares them with the build;
 * `npm run api:update` rewrites them). A new entry point without a report fails here.
 */
const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { import?: { types?: string } }>;
};

const configs = readdirSync(root)
  .filter((name) => /^api-extractor(\.[\w-]+)?\.json$/.test(name))
  .sort()
  .map((name) => {
    // loadFile merges "extends" and leaves <projectFolder> unresolved (no build needed).
    const config = ExtractorConfig.loadFile(join(root, name));
    const resolve = (path: string | undefined) => path?.replace('<projectFolder>', '.').replace(/\/$/, '');
    return {
      name,
      entry: resolve(config.mainEntryPointFilePath),
      reportFolder: resolve(config.apiReport?.reportFolder),
      reportFileName: config.apiReport?.reportFileName,
      enabled: config.apiReport?.enabled,
    };
  });

describe('API reports', () => {
  it('one config per exported entry point, reading its ESM declarations', () => {
    const entryTypes = Object.values(manifest.exports)
      .flatMap((target) => (typeof target === 'object' && target.import?.types ? [target.import.types] : []))
      .sort();
    expect(configs.map((c) => c.entry).sort()).toEqual(entryTypes);
  });

  it('each config writes its own report into api/, and the report is checked in', () => {
    for (const config of configs) {
      expect(config.enabled).toBe(true);
      expect(config.reportFolder).toBe('./api');
      expect(existsSync(join(root, 'api', `${config.reportFileName}.api.md`))).toBe(true);
    }
    expect(new Set(configs.map((c) => c.reportFileName)).size).toBe(configs.length);
  });
});
