import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../lib/testing/index.js';
import { runSample, type SampleRun } from '../../sample/run-sample.js';

/** Collects what the sample prints. */
class Terminal extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

let serving: SampleRun | undefined;
afterEach(async () => {
  await serving?.close();
  serving = undefined;
});

describe('the sample app', () => {
  it('walks through every provider offline and every step behaves', async () => {
    const out = new Terminal();
    const run = await runSample({ out, clock: new FakeClock(Date.now()) });
    const lines = out.text.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('✘'))).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(lines.at(-1)).toBe('✔ all 30 steps behaved');
    for (const step of ['token request', '50 calls', 'refresh ahead', '429 hint', '401 recovery', 'bad secret']) {
      expect(lines.filter((l) => l.includes(`✔ ${step}`))).toHaveLength(5);
    }
    expect(lines.filter((l) => l.includes('50 × 200 at once, 1 token request'))).toHaveLength(5);
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(80);
    expect(out.text).not.toMatch(/Bearer ey|client_secret":"(?!•••)/);
  });

  it('--serve exposes the endpoints and never a token', async () => {
    const out = new Terminal();
    serving = await runSample({ out, serve: true, port: 0 });
    const base = /listening on (\S+)/.exec(out.text)![1]!.replace('[::1]', '127.0.0.1');
    const ping = await fetch(`${base}/providers/palisade/ping`).then((r) => r.json());
    expect(ping).toMatchObject({ provider: 'palisade', status: 200, body: { ok: true, provider: 'palisade' } });
    const tokens = (await fetch(`${base}/tokens`).then((r) => r.json())) as { client: string; fingerprint: string }[];
    expect(tokens.map((t) => t.client).sort()).toEqual(['alternative-payments', 'billing', 'firstvision', 'palisade', 'youhodler']);
    expect(tokens.every((t) => /^[\w-]{12}$/.test(t.fingerprint))).toBe(true);
    expect(JSON.stringify(tokens)).not.toContain('accessToken');
    expect((await fetch(`${base}/providers/nope/ping`)).status).toBe(404);
  });
});
