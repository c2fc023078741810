import type { Application as Row } from './generated/client.ts';
import type { Db, Tx } from './prisma.ts';
import { adminTransaction } from './admin-change.ts';
import { stringList } from './json.ts';
import type { Application } from './types.ts';

export type NewApplication = Omit<Application, 'id' | 'enabled' | 'createdAt' | 'updatedAt'>;

export function toApplication(row: Row): Application {
  return {
    id: row.id,
    clientId: row.clientId,
    name: row.name,
    secretHash: row.secretHash,
    secretId: row.secretId,
    grantTypes: stringList(row.grantTypes),
    scopes: stringList(row.scopes),
    defaultScopes: stringList(row.defaultScopes),
    audiences: stringList(row.audiences),
    accessTokenTtl: row.accessTokenTtl,
    policyMode: row.policyMode === 'any' ? 'any' : 'all',
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function findApplication(db: Db | Tx, clientId: string): Promise<Application | null> {
  const row = await db.application.findUnique({ where: { clientId } });
  return row ? toApplication(row) : null;
}

export async function listApplications(db: Db | Tx): Promise<Application[]> {
  return (await db.application.findMany({ orderBy: { clientId: 'asc' } })).map(toApplication);
}

export async function insertApplication(tx: Tx, app: NewApplication): Promise<Application> {
  const row = await tx.application.create({
    data: {
      ...app,
      grantTypes: JSON.stringify(app.grantTypes),
      scopes: JSON.stringify(app.scopes),
      defaultScopes: JSON.stringify(app.defaultScopes),
      audiences: JSON.stringify(app.audiences),
    },
  });
  return toApplication(row);
}

export async function setApplicationSecret(tx: Tx, clientId: string, secretId: string, secretHash: string): Promise<void> {
  await tx.application.update({ where: { clientId }, data: { secretId, secretHash } });
}

export async function setApplicationEnabled(tx: Tx, clientId: string, enabled: boolean): Promise<void> {
  await tx.application.update({ where: { clientId }, data: { enabled } });
}

/**
 * Re-hash with current argon2 parameters, only if the secret was not rotated meanwhile; the
 * state version moves so every worker picks up the new hash instead of re-hashing again.
 */
export async function rehashApplicationSecret(db: Db, clientId: string, secretId: string, secretHash: string): Promise<void> {
  await adminTransaction(db, (tx) => tx.application.updateMany({ where: { clientId, secretId }, data: { secretHash } }));
}
