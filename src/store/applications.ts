import type { Application as Row } from './generated/client.ts';
import type { Db, Tx } from './prisma.ts';
import { adminTransaction } from './admin-change.ts';
import { stringList } from './json.ts';
import { CLIENT_AUTH_METHODS, type Application, type ClientAuthMethod } from './types.ts';

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
    authMethods: row.authMethods === null ? null : (stringList(row.authMethods).filter((m) => (CLIENT_AUTH_METHODS as readonly string[]).includes(m)) as ClientAuthMethod[]),
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
      authMethods: app.authMethods === null ? null : JSON.stringify(app.authMethods),
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

export type ApplicationChanges = Partial<Pick<Application, 'name' | 'grantTypes' | 'scopes' | 'defaultScopes' | 'audiences' | 'accessTokenTtl' | 'policyMode' | 'authMethods'>>;

export async function updateApplication(tx: Tx, clientId: string, changes: ApplicationChanges): Promise<void> {
  const list = (value: string[] | undefined) => (value === undefined ? undefined : JSON.stringify(value));
  await tx.application.update({
    where: { clientId },
    data: {
      name: changes.name,
      grantTypes: list(changes.grantTypes),
      scopes: list(changes.scopes),
      defaultScopes: list(changes.defaultScopes),
      audiences: list(changes.audiences),
      accessTokenTtl: changes.accessTokenTtl,
      policyMode: changes.policyMode,
      authMethods: changes.authMethods === undefined ? undefined : changes.authMethods === null ? null : JSON.stringify(changes.authMethods),
    },
  });
}

/** What refers to an application: its service accounts (with how many applications each is bound to) and what is bound to it. */
export interface ApplicationDependents {
  serviceAccounts: { id: number; username: string; applications: number }[];
  certificates: string[];
  jwksSources: string[];
  policies: string[];
}

export async function findApplicationDependents(db: Db | Tx, applicationId: number): Promise<ApplicationDependents> {
  const boundToIt = { applications: { some: { applicationId } } };
  const byName = { select: { name: true }, where: boundToIt, orderBy: { name: 'asc' } } as const;
  const [accounts, certificates, sources, policies] = await Promise.all([
    db.serviceAccount.findMany({ where: boundToIt, select: { id: true, username: true, _count: { select: { applications: true } } }, orderBy: { username: 'asc' } }),
    db.verificationCertificate.findMany(byName),
    db.jwksSource.findMany(byName),
    db.policy.findMany(byName),
  ]);
  return {
    serviceAccounts: accounts.map((a) => ({ id: a.id, username: a.username, applications: a._count.applications })),
    certificates: certificates.map((c) => c.name),
    jwksSources: sources.map((s) => s.name),
    policies: policies.map((p) => p.name),
  };
}

/** Deletes an application; its bindings go with it (ON DELETE CASCADE), what was bound to it stays. */
export async function deleteApplication(tx: Tx, clientId: string): Promise<boolean> {
  const { count } = await tx.application.deleteMany({ where: { clientId } });
  return count === 1;
}
