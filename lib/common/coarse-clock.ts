/**
 * Wall time to within about a second, read without a clock call: a cached-token check is a few
 * map lookups, and on some virtual machines one `Date.now()` costs more than all of them (60–75 ns
 * measured on the machine CI runs on). The time is taken once a second by an unref'd interval that
 * stops itself when a second passes without a check, so an idle or closed app has no timer.
 *
 * It is only ever used far from a decision (see TokenService), so a late tick changes nothing; it
 * steps aside (`undefined`) whenever `Date` is not the native one, as under Jest's fake timers,
 * whose jumps (`jest.setSystemTime`) a once-a-second sample would miss.
 */
const TICK_MS = 1000;
const nativeNow = Date.now;
const isNative = (fn: unknown) =>
  typeof fn === 'function' && /\[native code\]/.test(Function.prototype.toString.call(fn));
// Captured at load, so a fake installed later cannot stop or slow the ticks. Fake timers installed
// before this loads fake `Date` too: then the coarse time is never used.
const realSetInterval = globalThis.setInterval;
const available = isNative(nativeNow);

let sampled = 0;
let usedSinceTick = false;
let ticker: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  if (!usedSinceTick) {
    clearInterval(ticker);
    ticker = undefined;
    return;
  }
  usedSinceTick = false;
  sampled = nativeNow();
}

/** The time sampled at the last tick, or `undefined` when there is none to trust (then read the clock). */
export function coarseNow(): number | undefined {
  if (!available || Date.now !== nativeNow) return undefined;
  usedSinceTick = true;
  if (ticker !== undefined) return sampled;
  sampled = nativeNow();
  ticker = realSetInterval(tick, TICK_MS);
  ticker.unref();
  return sampled;
}

/**
 * How far from a decision the coarse time may stand in for the clock: it is at most a tick old
 * unless the event loop stalled for longer than this, and the decision then comes out the same.
 */
export const COARSE_MARGIN_MS = 30_000;
