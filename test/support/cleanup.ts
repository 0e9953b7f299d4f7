import { afterEach } from '@jest/globals';

type Closable = { close(): Promise<void> };

export interface Cleanup {
  /** Closes `resource` after the test (last opened first); hands it back. */
  track<T extends Closable>(resource: T): T;
  /** Closes a tracked resource now, for a test that asserts on what closing does. */
  closeNow(resource: Closable): Promise<void>;
}

/**
 * Registers an afterEach that closes what the test tracked, last opened first (apps before the
 * servers they hold keep-alive sockets to).
 */
export function closeAfterEach(): Cleanup {
  let open: Closable[] = [];
  afterEach(async () => {
    // Close everything even when one close fails (a server left open would keep jest from exiting).
    const failures: unknown[] = [];
    for (const resource of open.reverse()) await resource.close().catch((error: unknown) => failures.push(error));
    open = [];
    if (failures.length > 0) throw failures[0];
  });
  return {
    track: (resource) => {
      open.push(resource);
      return resource;
    },
    closeNow: async (resource) => {
      open = open.filter((r) => r !== resource);
      await resource.close();
    },
  };
}
