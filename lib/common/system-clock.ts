import type { OAuthClock } from '../interfaces/clock.interface.js';

/** The clock as the library uses it: a wait between attempts ends early when `signal` aborts. */
export interface LibraryClock extends Required<OAuthClock> {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A real timer, cleared when `signal` aborts (so a closed app holds no timer open). */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A user's `sleep` cannot be cancelled; the wait for it ends when `signal` aborts. */
function sleepUntilAborted(sleep: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return sleep;
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted) return done();
    signal.addEventListener('abort', done, { once: true });
    sleep.then(done, done);
  });
}

export const SYSTEM_CLOCK: LibraryClock = { now: () => Date.now(), sleep: realSleep };

/** The user's clock, with a real timer for waits when it brings none. */
export function completeClock(clock: OAuthClock | undefined): LibraryClock {
  if (clock === undefined) return SYSTEM_CLOCK;
  return {
    now: () => clock.now(),
    sleep: clock.sleep ? (ms, signal) => sleepUntilAborted(clock.sleep!(ms), signal) : realSleep,
  };
}
