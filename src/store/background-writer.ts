import type { Logger } from '../logger.ts';
import { metrics } from '../metrics/recorder.ts';
import { describeStorageError } from './storage-errors.ts';
import type { AuditEvent } from './types.ts';

/** Where batches are written (the audit thread's connection: store/audit-sink.ts). */
export interface WriteTarget {
  insertAuditEvents(events: AuditEvent[]): Promise<void>;
  touchAppPasswords(uses: Map<string, Date>): Promise<void>;
  close(): Promise<void>;
}

export interface WriterOptions {
  intervalMs: number;
  batchSize: number;
  maxQueued: number;
  /** the first pause after a failed write; it doubles with each failure up to maxBackoffMs */
  minBackoffMs: number;
  maxBackoffMs: number;
}

const DEFAULTS: WriterOptions = { intervalMs: 250, batchSize: 500, maxQueued: 50_000, minBackoffMs: 1000, maxBackoffMs: 10_000 };

/** Whether queued writes reach the database; `failingSince` is set while they do not. */
export interface WriterHealth {
  failingSince: Date | null;
  reason: string | null;
  queued: number;
}

/**
 * Writes that must not sit on a request's critical path: audit events and app-password
 * last-used times, batched and flushed every `intervalMs` (or sooner when a batch fills).
 * A crash loses at most what was queued since the last flush. When writing fails (a full disk, a
 * read-only or vanished file), the queue is kept (bounded) and writing is retried with an
 * exponential pause: a request never triggers a write of its own, so a failing database costs the
 * token path nothing.
 */
export class BackgroundWriter {
  private events: AuditEvent[] = [];
  private passwordUses = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;
  private readonly options: WriterOptions;
  private failure: { since: Date; reason: string; backoffMs: number; retryAt: number } | null = null;

  constructor(
    private readonly target: WriteTarget,
    private readonly log: Logger,
    options: Partial<WriterOptions> = {},
    /** told of every failed write, e.g. to reconnect after a read-only or I/O error */
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  audit(event: AuditEvent): void {
    if (this.events.length >= this.options.maxQueued) {
      this.events.shift();
      this.dropped++;
      metrics.auditEventsDropped(1);
    }
    this.events.push(event);
    metrics.auditEventQueued();
    if (this.events.length === this.options.batchSize && !this.failure) void this.flush();
  }

  passwordUsed(id: string, at = new Date()): void {
    this.passwordUses.set(id, at);
  }

  health(): WriterHealth {
    return { failingSince: this.failure?.since ?? null, reason: this.failure?.reason ?? null, queued: this.events.length };
  }

  /** Writes everything queued so far (unless a failure's pause is not over); concurrent calls are serialised. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeQueued(false));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flushing = this.flushing.then(() => this.writeQueued(true));
    await this.flushing;
    await this.target.close();
  }

  private async writeQueued(ignorePause: boolean): Promise<void> {
    if (this.failure && !ignorePause && Date.now() < this.failure.retryAt) return;
    if (this.dropped > 0) {
      this.log.warn({ dropped: this.dropped }, 'audit queue overflowed; oldest events were dropped');
      this.dropped = 0;
    }
    while (this.events.length > 0) {
      const batch = this.events.splice(0, this.options.batchSize);
      try {
        await this.target.insertAuditEvents(batch);
        metrics.auditEventsWritten(batch.length);
      } catch (error) {
        this.events.unshift(...batch);
        this.failed(error);
        return;
      }
    }
    if (this.passwordUses.size > 0) {
      const uses = this.passwordUses;
      this.passwordUses = new Map();
      try {
        await this.target.touchAppPasswords(uses);
      } catch (error) {
        for (const [id, at] of uses) if (!this.passwordUses.has(id)) this.passwordUses.set(id, at);
        this.failed(error);
        return;
      }
    }
    this.recovered();
  }

  private failed(error: unknown): void {
    const reason = describeStorageError(error);
    const backoffMs = this.failure ? Math.min(this.failure.backoffMs * 2, this.options.maxBackoffMs) : this.options.minBackoffMs;
    if (!this.failure) this.log.error({ err: error, queued: this.events.length }, `writing audit events failed: ${reason}; retrying with back-off`);
    else if (reason !== this.failure.reason) this.log.error({ err: error, queued: this.events.length }, `writing audit events still fails: ${reason}`);
    this.failure = { since: this.failure?.since ?? new Date(), reason, backoffMs, retryAt: Date.now() + backoffMs };
    this.onError(error);
  }

  private recovered(): void {
    if (!this.failure) return;
    this.log.info({ failed_for_ms: Date.now() - this.failure.since.getTime() }, 'audit events are written again');
    this.failure = null;
  }
}
