import type { Db, Tx } from './prisma.ts';
import { bumpStateVersion } from './state-version.ts';

const TRANSACTION_LIMITS = { maxWait: 15_000, timeout: 15_000 };
const ATTEMPTS = 30;

/**
 * Runs an admin change in one transaction whose first statement is a write (the state-version
 * bump). SQLite can still refuse that first write at once (SQLITE_BUSY) when another process
 * commits while this one waits for the lock; nothing has been done by then, so the whole
 * transaction is tried again after a short random pause.
 */
export async function adminTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => {
        await bumpStateVersion(tx);
        return work(tx);
      }, TRANSACTION_LIMITS);
    } catch (error) {
      if (attempt >= ATTEMPTS || !isBusy(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 90));
    }
  }
}

function isBusy(error: unknown): boolean {
  return error instanceof Error && /SQLITE_BUSY|database is locked/.test(error.message);
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
