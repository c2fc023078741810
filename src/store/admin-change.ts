import { busyTimeoutOf, type Db, type Tx } from './prisma.ts';
import { isBusy, sqliteCode } from './storage-errors.ts';
import { bumpStateVersion } from './state-version.ts';

const TRANSACTION_LIMITS = { maxWait: 15_000, timeout: 15_000 };

/**
 * Runs an admin change in one transaction whose first statement is a write (the state-version
 * bump). SQLite can still refuse that first write at once (SQLITE_BUSY) when another process
 * commits while this one waits for the lock; nothing has been done by then, so the whole
 * transaction is tried again after a short random pause, for as long as the client's busy timeout;
 * after that the lock counts as held and the error goes to the caller.
 */
export async function adminTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const deadline = Date.now() + busyTimeoutOf(db);
  for (;;) {
    try {
      return await db.$transaction(async (tx) => {
        await bumpStateVersion(tx);
        return work(tx);
      }, TRANSACTION_LIMITS);
    } catch (error) {
      if (Date.now() >= deadline || !isBusy(sqliteCode(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 90));
    }
  }
}

/** How the details of every admin change's audit event begin (recordAdminChange writes the actor first). */
export const ADMIN_DETAILS_PREFIX = '{"actor":"admin-cli"';

/**
 * The audit event of an admin change, written in the change's own transaction (not batched):
 * a change reported done is durable, and so is its record.
 *
 * `applications` names the applications a change concerns (those an object is or was bound to):
 * they are listed in the details, and an event about exactly one of them carries its client_id
 * as well; `audit list --app` finds the event either way (see listAuditEvents).
 */
export async function recordAdminChange(
  tx: Tx,
  event: { action: string; clientId?: string | null; subject?: string | null; applications?: string[]; details?: Record<string, unknown> },
): Promise<void> {
  const applications = event.applications === undefined ? undefined : [...new Set(event.applications)];
  const clientId = event.clientId ?? (applications?.length === 1 ? applications[0]! : null);
  await tx.auditEvent.create({
    data: {
      at: new Date(),
      action: event.action,
      outcome: 'success',
      clientId,
      subject: event.subject ?? null,
      ip: null,
      reason: null,
      details: JSON.stringify({ actor: 'admin-cli', ...event.details, ...(applications ? { applications } : {}) }),
    },
  });
}
