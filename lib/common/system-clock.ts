import type { OAuthClock } from '../interfaces/clock.interface.js';

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const SYSTEM_CLOCK: Required<OAuthClock> = { now: () => Date.now(), sleep: realSleep };

/** The user's clock, with a real timer for waits when it brings none. */
export function completeClock(clock: OAuthClock | undefined): Required<OAuthClock> {
  if (clock === undefined) return SYSTEM_CLOCK;
  return { now: () => clock.now(), sleep: clock.sleep ? (ms) => clock.sleep!(ms) : realSleep };
}
