import type { Db } from './prisma.ts';
import type { AuditEvent, StoredAuditEvent } from './types.ts';

export async function insertAuditEvents(db: Db, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.auditEvent.createMany({
    data: events.map((e) => ({
      at: e.at,
      action: e.action,
      outcome: e.outcome,
      clientId: e.clientId ?? null,
      subject: e.subject ?? null,
      reason: e.reason ?? null,
      ip: e.ip ?? null,
      details: e.details ? JSON.stringify(e.details) : null,
    })),
  });
}

export async function listAuditEvents(db: Db, filter: { since?: Date; clientId?: string; limit?: number }): Promise<StoredAuditEvent[]> {
  const rows = await db.auditEvent.findMany({
    where: { at: filter.since ? { gte: filter.since } : undefined, clientId: filter.clientId },
    orderBy: { id: 'desc' },
    take: filter.limit ?? 1000,
  });
  return rows.map((r) => ({ ...r, outcome: r.outcome === 'success' ? 'success' : 'failure', details: r.details ? JSON.parse(r.details) : null }));
}

/** Deletes up to `limit` of the oldest events from before `before`; returns how many it deleted. */
export async function purgeAuditEventBatch(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db.auditEvent.findMany({ where: { at: { lt: before } }, orderBy: { at: 'asc' }, select: { id: true }, take: limit });
  if (rows.length === 0) return 0;
  return (await db.auditEvent.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } })).count;
}
