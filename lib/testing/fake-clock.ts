import type { OAuthClock } from '../interfaces/clock.interface.js';

/**
 * A clock tests move by hand. `sleep` advances it instead of waiting, so retry backoff and
 * `Retry-After` run instantly and can be asserted (`sleeps`).
 */
export class FakeClock implements Required<OAuthClock> {
  readonly sleeps: number[] = [];

  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += ms;
  }
}
