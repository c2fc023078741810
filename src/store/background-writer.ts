import type { Logger } from '../logger.ts';
import { insertAuditEvents } from './audit.ts';
import type { Db } from './prisma.ts';
import { touchAppPasswords } from './service-accounts.ts';
import type { AuditEvent } from './types.ts';

/**
 * Writes that must not sit on a request's critical path: audit events and app-password
 * last-used times, batched and flushed every `intervalMs` (or sooner when a batch fills).
 * A crash loses at most what was queued since the last flush.
 */
export class BackgroundWriter {
  private events: AuditEvent[] = [];
  private passwordUses = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs = 250,
    private readonly batchSize = 500,
    private readonly maxQueued = 50_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  audit(event: AuditEvent): void {
    if (this.events.length >= this.maxQueued) {
      this.events.shift();
      this.dropped++;
    }
    this.events.push(event);
    if (this.events.length >= this.batchSize) void this.flush();
  }

  passwordUsed(id: string, at = new Date()): void {
    this.passwordUses.set(id, at);
  }

  /** Writes everything queued so far; concurrent calls are serialised. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeQueued());
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeQueued(): Promise<void> {
    if (this.dropped > 0) {
      this.log.warn({ dropped: this.dropped }, 'audit queue overflowed; oldest events were dropped');
      this.dropped = 0;
    }
    while (this.events.length > 0) {
      const batch = this.events.splice(0, this.batchSize);
      try {
        await insertAuditEvents(this.db, batch);
      } catch (error) {
        this.log.error({ err: error, events: batch.length }, 'writing audit events failed; will retry');
        this.events.unshift(...batch);
        return;
      }
    }
    if (this.passwordUses.size > 0) {
      const uses = this.passwordUses;
      this.passwordUses = new Map();
      try {
        await touchAppPasswords(this.db, uses);
      } catch (error) {
        this.log.error({ err: error }, 'recording app-password use failed');
      }
    }
  }
}
