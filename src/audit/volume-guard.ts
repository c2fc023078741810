import type { AuditEvent } from '../store/types.ts';

const WINDOW_MS = 60_000;
const SAMPLE_CLIENT_IDS = 5;

export interface AuditSink {
  audit(event: AuditEvent): void;
}

export interface VolumeLimits {
  /** refused requests recorded one by one per second (and process); the rest are summarised */
  deniedPerSecond: number;
  /** addresses summarised one by one per kind and minute; the rest share one summary */
  maxAddresses: number;
}

interface Summary {
  kind: 'throttled' | 'denied';
  /** the action of the events summarised: token.denied, token.introspected, token.revoked */
  action: string;
  ip: string | null;
  count: number;
  first: Date;
  last: Date;
  errors: Record<string, number>;
  clientIds: Set<string>;
}

/**
 * Keeps the audit log from becoming a way to fill the disk. Issued tokens are recorded one by one;
 * throttled requests become one summary per address and minute, with a count; other refusals are
 * recorded one by one up to a rate, and summarised the same way beyond it. The number of addresses
 * summarised separately is bounded too, so the rows an attack can cause per second are bounded
 * whatever addresses it comes from.
 */
export class AuditVolumeGuard {
  private readonly summaries = new Map<string, Summary>();
  private tokens: number;
  private refilledAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: AuditSink,
    private readonly limits: VolumeLimits,
  ) {
    this.tokens = limits.deniedPerSecond;
  }

  start(sweepMs = 5000): void {
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  record(event: AuditEvent, throttled: boolean, now = Date.now()): void {
    if (event.outcome === 'success') return this.sink.audit(event);
    if (!throttled && this.take(now)) return this.sink.audit(event);
    this.summarise(throttled ? 'throttled' : 'denied', event, now);
  }

  /** Writes the summaries whose minute is over. */
  sweep(now = Date.now()): void {
    for (const [key, summary] of this.summaries) {
      if (now - summary.first.getTime() < WINDOW_MS) continue;
      this.summaries.delete(key);
      this.sink.audit(asEvent(summary));
    }
  }

  /** Writes every summary now (at shutdown). */
  close(): void {
    clearInterval(this.timer);
    for (const summary of this.summaries.values()) this.sink.audit(asEvent(summary));
    this.summaries.clear();
  }

  private take(now: number): boolean {
    const rate = this.limits.deniedPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private summarise(kind: Summary['kind'], event: AuditEvent, now: number): void {
    const ip = event.ip ?? null;
    let key = `${kind}\n${event.action}\n${ip}`;
    let summary = this.summaries.get(key);
    if (!summary && this.addressesOf(kind) >= this.limits.maxAddresses) {
      key = `${kind}\n${event.action}\n(other)`;
      summary = this.summaries.get(key);
    }
    if (!summary) {
      summary = { kind, action: event.action, ip: key.endsWith('\n(other)') ? null : ip, count: 0, first: new Date(now), last: new Date(now), errors: {}, clientIds: new Set() };
      this.summaries.set(key, summary);
    }
    summary.count++;
    summary.last = new Date(now);
    const error = typeof event.details?.error === 'string' ? event.details.error : 'unknown';
    summary.errors[error] = (summary.errors[error] ?? 0) + 1;
    if (event.clientId && summary.clientIds.size < SAMPLE_CLIENT_IDS) summary.clientIds.add(event.clientId);
  }

  private addressesOf(kind: Summary['kind']): number {
    let n = 0;
    for (const summary of this.summaries.values()) if (summary.kind === kind) n++;
    return n;
  }
}

function asEvent(summary: Summary): AuditEvent {
  const throttled = summary.kind === 'throttled';
  return {
    at: summary.first,
    action: throttled ? 'token.throttled' : summary.action,
    outcome: 'failure',
    clientId: summary.clientIds.size === 1 ? [...summary.clientIds][0]! : null,
    subject: null,
    reason: throttled ? `${summary.count} requests throttled` : `${summary.count} refused requests summarised`,
    ip: summary.ip,
    details: {
      summary: true,
      ...(throttled ? { of: summary.action } : {}),
      count: summary.count,
      first_at: summary.first.toISOString(),
      last_at: summary.last.toISOString(),
      errors: summary.errors,
      client_ids: [...summary.clientIds],
      ...(summary.ip === null ? { addresses: 'several' } : {}),
    },
  };
}
