import type { Middleware } from 'koa';
import type { Keystore } from '../keys/keystore.ts';
import type { BackgroundWriter } from '../store/background-writer.ts';
import type { DatabaseWatch } from '../store/database-watch.ts';
import { databaseReachable } from '../store/health.ts';
import type { Db } from '../store/prisma.ts';
import { sendJson } from './json-body.ts';

export const liveness: Middleware = (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  sendJson(ctx, { status: 'ok' });
};

export interface ReadinessDeps {
  db: Db;
  database: DatabaseWatch;
  writer: BackgroundWriter;
  keystore: () => Keystore;
  keys: { health(): { failingSince: Date | null; reason: string | null } };
}

/**
 * Ready when the database answers, the file at its path is the one in use, audit events are being
 * written, and an active signing key is loaded. Each problem is named in `problems`.
 */
export function readiness(deps: ReadinessDeps): Middleware {
  return async (ctx) => {
    const problems: string[] = [];
    const database = await databaseReachable(deps.db);
    if (!database) problems.push('the database does not answer');
    const file = deps.database.fileHealth();
    if (!file.ok) problems.push(file.reason!);
    const writes = deps.writer.health();
    if (writes.failingSince) problems.push(`audit events cannot be written since ${writes.failingSince.toISOString()} (${writes.queued} queued): ${writes.reason}`);
    const signingKey = deps.keystore().active !== null;
    if (!signingKey) problems.push('no active signing key is loaded');
    const keys = deps.keys.health();
    if (keys.failingSince) problems.push(`the signing keys cannot be reloaded since ${keys.failingSince.toISOString()}: ${keys.reason}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = problems.length === 0 ? 200 : 503;
    sendJson(ctx, {
      status: ctx.status === 200 ? 'ready' : 'not ready',
      checks: { database, database_file: file.ok, audit_writes: writes.failingSince === null, signing_key: signingKey, signing_keys_current: keys.failingSince === null },
      ...(problems.length > 0 ? { problems } : {}),
    });
  };
}
