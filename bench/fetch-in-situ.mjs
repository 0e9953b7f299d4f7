// Section 7e: what OAuthFetch's ratio at concurrency 1 is in microseconds. Beside the A/A control,
// the baseline is run again with a busy wait of 2, 5 and 10 µs before each `fetch`: a scale that
// turns the ratio into time added to a call. Both ratios are given: of mean latencies (req/s, as
// section 7) and of median latencies, which a stray slow call does not move.
import { alternatingCalls, median, percentile } from './harness.mjs';
import { checked, staticAuthorization } from './subjects.mjs';
import { baselines, fetchSubjects } from './transport-subjects.mjs';

const spin = (us) => {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
};

/** The baseline's call with `us` µs of busy work before its `fetch`. */
async function spun(env, us) {
  const init = { headers: { authorization: await staticAuthorization(env) } };
  return {
    name: `static header + ${us} µs busy wait`,
    call: async () => {
      spin(us);
      const res = await fetch(env.apiUrl, init);
      return checked(res.status, await res.json());
    },
  };
}

export async function fetchInSitu(env, { windows = 30, windowMs = 1000 } = {}) {
  const base = await baselines.fetch.baseline(env);
  const control = await baselines.fetch.baseline(env);
  const library = await fetchSubjects[0].start(env);
  try {
    const sides = [
      { name: 'A/A control: static header vs itself', call: control.call },
      { name: 'nestjs-client-credentials OAuthFetch', call: library.call },
      await spun(env, 2),
      await spun(env, 5),
      await spun(env, 10),
    ];
    for (const side of sides) await alternatingCalls(side.call, base.call, windowMs);
    const ratios = sides.map(() => ({ mean: [], p50: [] }));
    // Windows in turn over the rows, so that the machine's load drifts over all rows alike.
    for (let w = 0; w < windows; w++) {
      for (const [i, side] of sides.entries()) {
        const [x, y] = await alternatingCalls(side.call, base.call, windowMs);
        ratios[i].mean.push(x.rps / y.rps);
        ratios[i].p50.push(y.p50 / x.p50);
      }
    }
    const spread = (xs) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return [
        median(sorted).toFixed(3),
        `${percentile(sorted, 0.25).toFixed(3)}–${percentile(sorted, 0.75).toFixed(3)}`,
      ];
    };
    return sides.map((side, i) => [side.name, ...spread(ratios[i].mean), ...spread(ratios[i].p50)]);
  } finally {
    await library.close();
  }
}
