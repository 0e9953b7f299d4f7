// API reports of the package's entry points (api/*.api.md), made by API Extractor from dist/esm/**/*.d.ts
// (run `npm run build` first). Without flags, checks them: fails with a diff when the emitted
// declarations no longer match the checked-in report. With --update, rewrites the reports.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
// One config per entry point: api-extractor.json ("."), api-extractor.<name>.json ("./<name>").
const configs = readdirSync(root)
  .filter((name) => /^api-extractor(\.[\w-]+)?\.json$/.test(name))
  .sort();

const failed = [];
for (const name of configs) {
  const config = ExtractorConfig.loadFileAndPrepare(join(root, name));
  const result = Extractor.invoke(config, { localBuild: update, printApiReportDiff: !update });
  const report = `api/${config.reportConfigs[0].fileName}`;
  if (!result.succeeded) failed.push(report);
  else console.log(`${report}: ${result.apiReportChanged ? 'updated' : 'up to date'}`);
}

if (failed.length > 0) {
  console.error(`\nAPI Extractor failed for ${failed.join(', ')}.`);
  if (!update) {
    console.error('If the change to the public API is intended, run `npm run api:update` and commit api/*.api.md.');
  }
  process.exit(1);
}
