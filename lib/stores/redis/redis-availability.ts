import type { LoggerService } from '@nestjs/common';
import { logMessages } from '../../observability/log-messages.js';
import { LOG_CONTEXT } from '../../oauth.constants.js';

/** Why a Redis call did not happen or did not answer; never escapes the store. */
export class RedisUnavailable extends Error {
  override readonly name = 'RedisUnavailable';

  constructor(
    message: string,
    /** Whether the command went out (and may still run when Redis answers again). */
    readonly sent: boolean,
  ) {
    super(message);
  }
}

/** While Redis is known to be down, calls fail at once; one probe goes through per interval. */
const PROBE_INTERVAL_MS = 1_000;

/**
 * Bounds every Redis call by `commandTimeoutMs` and remembers an outage, so callers fail fast
 * instead of queueing behind a dead connection. One warning per outage, one line when it ends.
 */
export class RedisAvailability {
  /** Set while Redis is unavailable: when the next probe may go through. */
  private downUntil: number | undefined;

  constructor(
    private readonly commandTimeoutMs: number,
    private readonly isClosed: () => boolean,
    private readonly logger: () => LoggerService,
    /** Told once when an outage starts (`false`) and once when it ends (`true`). */
    private readonly report: (available: boolean) => void,
    /** Told of every command that failed or timed out. */
    private readonly failed: () => void = () => undefined,
  ) {}

  /**
   * Runs `run` unless `unavailable()` names a reason not to (the connection is reconnecting or
   * closed). A `probe` goes through even while waiting for the next probe.
   */
  async call<T>(unavailable: () => string | undefined, run: () => Promise<T>, probe = false): Promise<T> {
    if (this.isClosed()) throw new RedisUnavailable('store closed', false);
    const status = unavailable();
    if (status !== undefined) {
      this.markDown(`connection ${status}`);
      throw new RedisUnavailable(status, false);
    }
    if (!probe && this.downUntil !== undefined && performance.now() < this.downUntil)
      throw new RedisUnavailable('waiting for the next probe', false);
    let result: T;
    try {
      result = await this.withTimeout(run());
    } catch (error) {
      if (this.isClosed()) throw new RedisUnavailable('store closed', true);
      this.failed();
      this.markDown(error instanceof RedisUnavailable ? error.message : error instanceof Error ? error.name : 'error');
      throw error instanceof RedisUnavailable ? error : new RedisUnavailable('command failed', true);
    }
    this.markUp();
    return result;
  }

  /**
   * `pending`, or `RedisUnavailable` after `commandTimeoutMs`. The timeout is checked once more after
   * the event loop has read its sockets: a process that was too busy to run (a burst, a starved CPU)
   * must not call Redis down when its answer is already waiting to be read (timers run before I/O).
   */
  withTimeout<T>(pending: Promise<T>): Promise<T> {
    pending.catch(() => undefined);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => setImmediate(() => reject(new RedisUnavailable(`no answer within ${this.commandTimeoutMs} ms`, true))),
        this.commandTimeoutMs,
      );
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private markDown(reason: string): void {
    const first = this.downUntil === undefined;
    this.downUntil = performance.now() + PROBE_INTERVAL_MS;
    if (first) {
      this.logger().warn(logMessages.redisUnavailable(reason), LOG_CONTEXT);
      this.report(false);
    }
  }

  private markUp(): void {
    if (this.downUntil === undefined) return;
    this.downUntil = undefined;
    this.logger().log(logMessages.redisRecovered(), LOG_CONTEXT);
    this.report(true);
  }
}
