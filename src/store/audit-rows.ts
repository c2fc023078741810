// The rows the background writer hands to its thread: plain values in the columns' order, written
// exactly as Prisma's SQLite adapter writes them, so the store reads them back like its own.
import type { AuditEvent } from './types.ts';

/** at, action, outcome, client_id, subject, reason, ip, details */
export type AuditRow = [string, string, string, string | null, string | null, string | null, string | null, string | null];
/** id, last_used_at */
export type PasswordUseRow = [string, string];

/** A DateTime column's text as Prisma's better-sqlite3 adapter stores it (ISO 8601, `+00:00`). */
export function storedDateTime(at: Date): string {
  return at.toISOString().replace('Z', '+00:00');
}

export function auditRow(e: AuditEvent): AuditRow {
  return [storedDateTime(e.at), e.action, e.outcome, e.clientId ?? null, e.subject ?? null, e.reason ?? null, e.ip ?? null, e.details ? JSON.stringify(e.details) : null];
}

export const INSERT_AUDIT_EVENT = 'INSERT INTO audit_events (at, action, outcome, client_id, subject, reason, ip, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
export const TOUCH_APP_PASSWORD = 'UPDATE app_passwords SET last_used_at = ? WHERE id = ?';
