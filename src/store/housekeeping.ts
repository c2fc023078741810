import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { purgeAuditEventBatch } from './audit.ts';
import { purgeUsedAssertionBatch } from './replay.ts';
import { purgeRevocationBatch } from './revocations.ts';
import type { Db } from './prisma.ts';
import { JOB_LOCKS } from './node-lock.ts';
import { runPeriodically, type PeriodicJob } from './periodic-job.ts';

const HOUR_MS = 3_600_000;

/**
 * Replay records outlive their assertion's expiry by this much: another node whose clock is behind
 * (or which allows leeway) may still take the assertion as unexpired, and must still find it used.
 */
export const REPLAY_KEPT_AFTER_EXPIRY_MS = 5 * 60_000;

export interface PurgeOptions {
  /** rows deleted per statement: each holds the database's write lock for a few milliseconds */
  batchSize: number;
  /** the pause between batches, in which workers write and admin commands run */
  pauseMs: number;
}

const DEFAULTS: PurgeOptions = { batchSize: 2000, pauseMs: 50 };

/**
 * Deletes audit events older than AUDIT_RETENTION_DAYS, replay records of expired assertions and
 * revocations of expired tokens, now and every hour (primary process only; on PostgreSQL, one node
 * at a time). It deletes in small batches with pauses between them, so that however much has piled
 * up, no statement holds the write lock (or the primary's event loop, which hands out every new
 * connection) for more than a few milliseconds.
 */
export function scheduleHousekeeping(config: Config, log: Logger): PeriodicJob {
  return runPeriodically(config.database, JOB_LOCKS.housekeeping, HOUR_MS, log, 'housekeeping failed; it runs again within the hour', async (db) => {
    const removed = await purgeExpired(db, config.auditRetentionDays, new Date());
    if (removed.auditEvents > 0) log.info({ removed: removed.auditEvents }, 'purged expired audit events');
  });
}

export async function purgeExpired(
  db: Db,
  retentionDays: number,
  now: Date,
  options: PurgeOptions = DEFAULTS,
): Promise<{ auditEvents: number; usedAssertions: number; revocations: number }> {
  const before = new Date(now.getTime() - retentionDays * 24 * HOUR_MS);
  const auditEvents = await inBatches((limit) => purgeAuditEventBatch(db, before, limit), options);
  const replayBefore = new Date(now.getTime() - REPLAY_KEPT_AFTER_EXPIRY_MS);
  const usedAssertions = await inBatches((limit) => purgeUsedAssertionBatch(db, replayBefore, limit), options);
  const revocations = await inBatches((limit) => purgeRevocationBatch(db, now, limit), options);
  return { auditEvents, usedAssertions, revocations };
}

async function inBatches(batch: (limit: number) => Promise<number>, options: PurgeOptions): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await batch(options.batchSize);
    total += deleted;
    if (deleted < options.batchSize) return total;
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
}
