import type { Tx } from './prisma.ts';
import { bumpStateVersion } from './state-version.ts';

/**
 * Records an admin change in the transaction that makes it: an audit event (written now, not
 * batched: a change reported done is durable) and a new state version for running servers.
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
  await bumpStateVersion(tx);
}
