import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { purgeAuditEvents } from './audit.ts';
import { purgeUsedAssertions } from './replay.ts';
import { createPrisma } from './prisma.ts';

const HOUR_MS = 3_600_000;

/**
 * Deletes audit events older than AUDIT_RETENTION_DAYS and replay records of expired
 * assertions, now and every hour (primary process only).
 */
export function scheduleHousekeeping(config: Config, log: Logger): void {
  const db = createPrisma(config.databaseFile);
  const purge = async () => {
    try {
      const before = new Date(Date.now() - config.auditRetentionDays * 24 * HOUR_MS);
      const removed = await purgeAuditEvents(db, before);
      if (removed > 0) log.info({ removed }, 'purged expired audit events');
      await purgeUsedAssertions(db, new Date());
    } catch (error) {
      log.error({ err: error }, 'housekeeping failed');
    }
  };
  void purge();
  setInterval(() => void purge(), HOUR_MS).unref();
}
