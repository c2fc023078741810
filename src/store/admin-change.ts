import { busyTimeoutOf, type Db, type Tx } from './prisma.ts';
import { isBusy, sqliteCode } from './sqlite-errors.ts';
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

/**
 * The audit event of an admin change, written in the change's own transaction (not batched):
 * a change reported done is durable, and so is its record.
 */
export async function recordAdminChange(
  tx: Tx,
  event: { action: string; clientId?: string | null; subject?: string | null; details?: Record<string, unknown> },
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      at: new Date(),
      action: event.action,
      outcome: 'success',
      clientId: event.clientId ?? null,
      subject: event.subject ?? null,
      ip: null,
      reason: null,
      details: JSON.stringify({ actor: 'admin-cli', ...event.details }),
    },
  });
}
