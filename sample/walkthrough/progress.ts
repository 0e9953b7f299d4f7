import type { OAuthClock } from 'nestjs-client-credentials';

/** Shows that a long step is busy, not stuck. */
export interface Progress {
  wait(ms: number, label: string): Promise<void>;
}

const WIDTH = 24;

/** A bar redrawn in place on a terminal; elsewhere (pipes, CI, tests) it just waits. */
export function terminalProgress(
  out: NodeJS.WritableStream & { isTTY?: boolean },
  clock: Required<OAuthClock>,
): Progress {
  return {
    async wait(ms, label) {
      if (!out.isTTY) return clock.sleep(ms);
      const end = clock.now() + ms;
      for (let left = ms; left > 0; left = end - clock.now()) {
        const done = Math.round(WIDTH * (1 - left / ms));
        out.write(`\r  ${'█'.repeat(done)}${'░'.repeat(WIDTH - done)} ${label.slice(0, 46)}`);
        await clock.sleep(Math.min(100, left));
      }
      out.write(`\r${' '.repeat(78)}\r`);
    },
  };
}
