import type { LoggerService } from '@nestjs/common';

/** What `logger: false` installs. */
export const NOOP_LOGGER: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};
