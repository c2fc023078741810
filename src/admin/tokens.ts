import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '../config.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { findApplication } from '../store/applications.ts';
import { revokeIssuedBefore, revokeTokenIdInTransaction } from '../store/revocations.ts';
import type { View } from './views.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';

/** The jti of a token this issuer signed (base64url); anything else names no token. */
const TOKEN_ID = /^[A-Za-z0-9_-]{8,128}$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const MAX_LIFETIME_MS = MAX_ACCESS_TOKEN_TTL_SECONDS * 1000;

/**
 * `token revoke --jti`: introspection answers inactive for that token from now on. Its expiry is not
 * known here, so the revocation is kept as long as any token can live.
 */
export async function revokeTokenById(ctx: AdminContext, jti: string, now = new Date()): Promise<View> {
  if (!TOKEN_ID.test(jti)) throw new AdminError(`--jti ${JSON.stringify(jti.slice(0, 140))} is not the jti of a token this issuer signed`);
  const keptUntil = new Date(now.getTime() + MAX_LIFETIME_MS);
  return adminTransaction(ctx.db, async (tx) => {
    const record = await revokeTokenIdInTransaction(tx, { jti, clientId: null, expiresAt: keptUntil });
    if (record) await recordAdminChange(tx, { action: 'token.revoked', details: { jti } });
    return { jti, revoked: record ? 'now' : 'already', kept_until: (record?.expiresAt ?? null)?.toISOString() ?? null };
  });
}

/**
 * `token revoke --app --before`: every token the application was issued before the moment becomes
 * inactive at introspection (a leaked secret's tokens, together with `app rotate-secret`).
 */
export async function revokeIssuedTokens(ctx: AdminContext, clientId: string, beforeText: string, now = new Date()): Promise<View> {
  const before = moment(beforeText, now);
  if (before.getTime() > now.getTime() + 60_000) {
    throw new AdminError('--before must not be in the future: to stop an application getting tokens, disable it (app disable)');
  }
  return adminTransaction(ctx.db, async (tx) => {
    if (!(await findApplication(tx, clientId))) throw new AdminError(`no application ${JSON.stringify(clientId)}`);
    const record = await revokeIssuedBefore(tx, { clientId, issuedBefore: before, expiresAt: new Date(before.getTime() + MAX_LIFETIME_MS) });
    await recordAdminChange(tx, { action: 'token.revoked', clientId, details: { issued_before: before.toISOString() } });
    return { client_id: clientId, issued_before: before.toISOString(), kept_until: record.expiresAt.toISOString() };
  });
}

/** `now`, or an ISO 8601 date and time with its offset (2026-11-30T12:00:00Z) that names a real moment. */
function moment(text: string, now: Date): Date {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  const parts = ISO_DATE_TIME.exec(trimmed);
  const parsed = parts && realCalendarTime(parts) ? new Date(trimmed) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) {
    throw new AdminError(`--before must be now or a date and time such as 2026-11-30T12:00:00Z (got ${JSON.stringify(text.slice(0, 80))})`);
  }
  return parsed;
}

/** Date would move 2026-02-30 to March 2: the fields must be a day and time that exist. */
function realCalendarTime(parts: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = parts.slice(1).map((p) => (p === undefined ? undefined : Number(p))) as number[];
  const probe = new Date(Date.UTC(year!, month! - 1, day!));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month! - 1 && probe.getUTCDate() === day &&
    hour! < 24 && minute! < 60 && second < 60 && offsetHours < 24 && offsetMinutes < 60;
}
