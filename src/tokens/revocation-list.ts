import type { Logger } from '../logger.ts';
import { FailureLog } from '../store/failure-log.ts';
import type { Db } from '../store/prisma.ts';
import { revocationsAfter, type RevocationRecord } from '../store/revocations.ts';

const LOAD_BATCH = 5000;
const PRUNE_EVERY_MS = 60_000;

/** What introspection asks about a verified token. */
export interface RevocableToken {
  jti: string;
  clientId: string;
  /** seconds since the epoch, as the token states it */
  issuedAt: number;
}

/**
 * Every revocation that still matters, held in memory by each serving process: introspection asks
 * it without a database round trip. New revocations are polled by id, so each poll reads only what
 * was recorded since the last one (usually nothing), and a revocation made anywhere reaches every
 * process within one poll interval.
 */
export class RevocationList {
  /** jti → when the token expires (ms), and the application it was issued to */
  private readonly tokens = new Map<string, { expires: number; clientId: string | null }>();
  /** client_id → how many of its tokens are in `tokens` */
  private readonly perApplication = new Map<string, number>();
  /** client_id → tokens issued before this moment (ms) are revoked, until `until` */
  private readonly applications = new Map<string, { before: number; until: number }>();
  private lastId = 0;
  private prunedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private announce: (record: RevocationRecord) => void = () => {};

  private readonly pollFailures: FailureLog;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly pollMs = 500,
    private readonly clock: () => number = Date.now,
  ) {
    this.pollFailures = new FailureLog(log, 'reading token revocations failed; introspection keeps the revocations it has');
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  isRevoked(token: RevocableToken): boolean {
    if (this.tokens.has(token.jti)) return true;
    const wide = this.applications.get(token.clientId);
    // iat has whole seconds: a token issued in the second of the cut is counted as issued before it
    return wide !== undefined && token.issuedAt * 1000 < wide.before;
  }

  /** Where revocations this process records are announced (the other workers of its node). */
  announceWith(announce: (record: RevocationRecord) => void): void {
    this.announce = announce;
  }

  /** A revocation this process has just recorded: in force here at once, and announced. */
  recorded(record: RevocationRecord): void {
    this.add(record);
    this.announce(record);
  }

  /** Takes a revocation without waiting for the next poll. */
  add(record: RevocationRecord): void {
    if (record.jti !== null) {
      if (this.tokens.has(record.jti)) return;
      this.tokens.set(record.jti, { expires: record.expiresAt.getTime(), clientId: record.clientId });
      if (record.clientId !== null) this.perApplication.set(record.clientId, (this.perApplication.get(record.clientId) ?? 0) + 1);
    } else if (record.clientId !== null && record.issuedBefore !== null) {
      const known = this.applications.get(record.clientId);
      const before = Math.max(known?.before ?? 0, record.issuedBefore.getTime());
      this.applications.set(record.clientId, { before, until: Math.max(known?.until ?? 0, record.expiresAt.getTime()) });
    }
  }

  /** How many tokens of the application are revoked one by one and not yet expired (as far as this process knows). */
  revokedTokensOf(clientId: string): number {
    return this.perApplication.get(clientId) ?? 0;
  }

  get size(): number {
    return this.tokens.size + this.applications.size;
  }

  /** Reads what was recorded since the last poll. */
  async refresh(): Promise<void> {
    for (;;) {
      const records = await revocationsAfter(this.db, this.lastId, LOAD_BATCH);
      const now = this.clock();
      for (const record of records) if (record.expiresAt.getTime() > now) this.add(record);
      if (records.length > 0) this.lastId = records[records.length - 1]!.id;
      if (records.length < LOAD_BATCH) break;
    }
    this.prune();
  }

  /** Reads now what was recorded until now; never rejects. */
  async catchUp(): Promise<void> {
    // a poll under way may have read before the moment that matters: one more after it
    await this.polling;
    await this.poll();
  }

  private poll(): Promise<void> {
    // one poll at a time: a slow database never piles them up
    this.polling ??= this.refresh()
      .then(() => this.pollFailures.succeeded())
      .catch((error: unknown) => this.pollFailures.failed(error))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Forgets revocations of tokens that have expired anyway (expired tokens are inactive without them). */
  private prune(): void {
    const now = this.clock();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    for (const [jti, { expires, clientId }] of this.tokens) {
      if (expires > now) continue;
      this.tokens.delete(jti);
      if (clientId === null) continue;
      const left = (this.perApplication.get(clientId) ?? 1) - 1;
      if (left > 0) this.perApplication.set(clientId, left);
      else this.perApplication.delete(clientId);
    }
    for (const [clientId, wide] of this.applications) if (wide.until <= now) this.applications.delete(clientId);
  }
}
