import type { Middleware } from 'koa';
import type { Keystore } from '../keys/keystore.ts';
import { databaseReachable } from '../store/health.ts';
import type { Db } from '../store/prisma.ts';

export const liveness: Middleware = (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { status: 'ok' };
};

/** Ready when the database answers and an active signing key is loaded. */
export function readiness(db: Db, keystore: () => Keystore): Middleware {
  return async (ctx) => {
    const database = await databaseReachable(db);
    const signingKey = keystore().active !== null;
    ctx.set('Cache-Control', 'no-store');
    ctx.status = database && signingKey ? 200 : 503;
    ctx.body = { status: ctx.status === 200 ? 'ready' : 'not ready', checks: { database, signing_key: signingKey } };
  };
}
