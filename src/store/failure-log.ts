import type { Logger } from '../logger.ts';

const REPEAT_MS = 60_000;

/**
 * The log of a poll that keeps failing while the database is away: the first failure at once,
 * then one line a minute with how many failed since, and one line when it works again, instead of
 * a line for every poll.
 */
export class FailureLog {
  private since: number | null = null;
  private loggedAt = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
  ) {}

  failed(error: unknown, now = Date.now()): void {
    if (this.since !== null && now - this.loggedAt < REPEAT_MS) {
      this.suppressed++;
      return;
    }
    this.since ??= now;
    this.log.error({ err: error, ...(this.suppressed > 0 ? { failures_since_last_line: this.suppressed, failing_for_ms: now - this.since } : {}) }, this.message);
    this.loggedAt = now;
    this.suppressed = 0;
  }

  succeeded(now = Date.now()): void {
    if (this.since === null) return;
    this.log.info({ failed_for_ms: now - this.since }, `${this.message}: works again`);
    this.since = null;
    this.suppressed = 0;
  }
}
