import type { AuditEvent as AuditRow } from './generated/client.ts';
import { ADMIN_DETAILS_PREFIX } from './admin-change.ts';
import type { Db } from './prisma.ts';
import type { AuditEvent, StoredAuditEvent } from './types.ts';

/**
 * Events newest first. With `clientId`: the events of that application, that is those carrying its
 * client_id and the admin changes that list it among their applications (a policy, certificate or
 * JWKS source bound to several applications is one change, recorded once).
 */
export async function listAuditEvents(db: Db, filter: { since?: Date; clientId?: string; limit?: number }): Promise<StoredAuditEvent[]> {
  const limit = filter.limit ?? 1000;
  const at = filter.since ? { gte: filter.since } : undefined;
  if (filter.clientId === undefined) {
    return (await db.auditEvent.findMany({ where: { at }, orderBy: { id: 'desc' }, take: limit })).map(toStoredEvent);
  }
  const clientId = filter.clientId;
  // the text match only narrows the candidates (both indexed by client_id); the parsed details decide
  const where = { at, OR: [{ clientId }, { clientId: null, details: { startsWith: ADMIN_DETAILS_PREFIX, contains: JSON.stringify(clientId) } }] };
  const found: StoredAuditEvent[] = [];
  let before: number | undefined;
  for (;;) {
    const rows = await db.auditEvent.findMany({ where: before === undefined ? where : { ...where, id: { lt: before } }, orderBy: { id: 'desc' }, take: limit });
    for (const row of rows.map(toStoredEvent)) {
      if (row.clientId === clientId || listsApplication(row, clientId)) found.push(row);
      if (found.length === limit) return found;
    }
    if (rows.length < limit) return found;
    before = rows[rows.length - 1]!.id;
  }
}

function listsApplication(event: StoredAuditEvent, clientId: string): boolean {
  const applications = event.details?.applications;
  return event.details?.actor === 'admin-cli' && Array.isArray(applications) && applications.includes(clientId);
}

function toStoredEvent(row: AuditRow): StoredAuditEvent {
  return { ...row, outcome: row.outcome === 'success' ? 'success' : 'failure', details: row.details ? JSON.parse(row.details) : null };
}

/** Deletes up to `limit` of the oldest events from before `before`; returns how many it deleted. */
export async function purgeAuditEventBatch(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db.auditEvent.findMany({ where: { at: { lt: before } }, orderBy: { at: 'asc' }, select: { id: true }, take: limit });
  if (rows.length === 0) return 0;
  return (await db.auditEvent.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } })).count;
}
