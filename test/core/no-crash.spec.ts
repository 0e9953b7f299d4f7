import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildLib, REPO, type BuiltLib } from '../support/built-lib.js';

/**
 * token$ never causes an unhandled rejection; no code path may end the process.
 * Jest catches unhandled rejections itself, so this runs the built library in a child process
 * under Node's default `--unhandled-rejections=throw`, where one would end the process.
 */
let built: BuiltLib;
beforeAll(async () => {
  built = await buildLib('no-crash');
}, 180_000);
afterAll(() => built?.remove());

function runWorker(scenario: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, NODE_OPTIONS: '', LIB_DIR: built.dir, SCENARIO: scenario };
    execFile(
      process.execPath,
      [join(REPO, 'test', 'core', 'token-stream-worker.mjs')],
      { env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a failing token endpoint errors token$ and nothing else', () => {
  it.each([
    ['bad credentials (401 invalid_client)', 'refused', 'invalid_client'],
    ['an outage (connection refused)', 'outage', 'network_error'],
  ])(
    '%s',
    async (_case, scenario, code) => {
      const result = await runWorker(scenario);
      expect(result.stderr).not.toMatch(/unhandled|TokenRequestError/i);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ survived: true, name: 'TokenRequestError', code });
    },
    60_000,
  );
});
