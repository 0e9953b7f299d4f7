// Section 9: the DPoP hot path. Every call with a DPoP-bound token signs a proof (RFC 9449 §4),
// so its cost is one signature per request and per redirect hop. Per algorithm: proofs per
// second on one core and µs per proof, against the Bearer path's own per-call header work
// (`authorization()`, a string) and an A/A control (the ES256 proof measured twice).
import { generateKeyPairSync } from 'node:crypto';
import { Bench } from 'tinybench';

const LIB = new URL(process.env.BENCH_LIB ?? '../dist/esm/index.js', import.meta.url);
const { dpopKey } = await import(new URL('./dpop/dpop-key.js', LIB).href);
const { DpopProofs } = await import(new URL('./dpop/dpop-proofs.js', LIB).href);
const { DpopNonces } = await import(new URL('./dpop/dpop-nonces.js', LIB).href);

const KEYS = {
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  EdDSA: () => generateKeyPairSync('ed25519').privateKey,
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  PS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};
const URL_ = 'https://api.example.com/v1/accounts/123?expand=balances';
const TOKEN = 'x'.repeat(600);

export async function dpopProofCost({ quick = false } = {}) {
  const clock = { now: () => Date.now(), sleep: async () => undefined };
  const nonces = new DpopNonces();
  nonces.remember('https://api.example.com', 'n-0123456789');
  const bench = new Bench({ time: quick ? 200 : 1500, warmupTime: quick ? 50 : 300 });
  const bearer = { accessToken: TOKEN };
  bench.add('Bearer header (baseline)', () => `Bearer ${bearer.accessToken}`);
  for (const [alg, make] of Object.entries(KEYS)) {
    const key = dpopKey({ key: make(), algorithm: alg });
    if ('problem' in key) throw new Error(`${alg}: ${key.problem}`);
    const proofs = new DpopProofs(key, nonces, clock);
    bench.add(`${alg} proof`, () => proofs.proof('GET', URL_, TOKEN));
    if (alg === 'ES256') bench.add('ES256 proof (A/A control)', () => proofs.proof('GET', URL_, TOKEN));
  }
  await bench.run();
  // µs per call from the throughput (the latency mean also carries the timer's own overhead).
  const usOf = (task) => 1e6 / task.result.throughput.mean;
  const base = usOf(bench.tasks[0]);
  return bench.tasks.map((task) => [task.name, Math.round(task.result.throughput.mean), usOf(task), usOf(task) - base]);
}
