import type { AppPassword as PasswordRow } from './generated/client.ts';
import type { Db, Tx } from './prisma.ts';
import { adminTransaction } from './admin-change.ts';
import { jsonObject, stringList } from './json.ts';
import type { AppPassword, ServiceAccount } from './types.ts';

export interface NewServiceAccount {
  username: string;
  displayName: string;
  groups: string[];
  permissions: string[];
  attributes: Record<string, unknown>;
}

const withBindings = { applications: { select: { applicationId: true } } } as const;

type AccountRow = Awaited<ReturnType<Db['serviceAccount']['findFirstOrThrow']>> & { applications: { applicationId: number }[] };

function toServiceAccount(row: AccountRow): ServiceAccount {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    groups: stringList(row.groups),
    permissions: stringList(row.permissions),
    attributes: jsonObject(row.attributes),
    enabled: row.enabled,
    applicationIds: row.applications.map((b) => b.applicationId),
    createdAt: row.createdAt,
  };
}

function toAppPassword(row: PasswordRow): AppPassword {
  return { ...row };
}

export async function findServiceAccount(db: Db | Tx, username: string): Promise<ServiceAccount | null> {
  const row = await db.serviceAccount.findUnique({ where: { username }, include: withBindings });
  return row ? toServiceAccount(row) : null;
}

export async function findServiceAccountById(db: Db | Tx, id: number): Promise<ServiceAccount | null> {
  const row = await db.serviceAccount.findUnique({ where: { id }, include: withBindings });
  return row ? toServiceAccount(row) : null;
}

export async function insertServiceAccount(tx: Tx, account: NewServiceAccount, applicationId: number): Promise<ServiceAccount> {
  const row = await tx.serviceAccount.create({
    data: {
      username: account.username,
      displayName: account.displayName,
      groups: JSON.stringify(account.groups),
      permissions: JSON.stringify(account.permissions),
      attributes: JSON.stringify(account.attributes),
      applications: { create: { applicationId } },
    },
    include: withBindings,
  });
  return toServiceAccount(row);
}

export async function findAppPassword(db: Db | Tx, id: string): Promise<AppPassword | null> {
  const row = await db.appPassword.findUnique({ where: { id } });
  return row ? toAppPassword(row) : null;
}

export async function listAppPasswords(db: Db | Tx, serviceAccountId: number): Promise<AppPassword[]> {
  return (await db.appPassword.findMany({ where: { serviceAccountId }, orderBy: { createdAt: 'asc' } })).map(toAppPassword);
}

export async function insertAppPassword(
  tx: Tx,
  password: { id: string; serviceAccountId: number; hash: string; description: string; expiresAt: Date | null },
): Promise<AppPassword> {
  return toAppPassword(await tx.appPassword.create({ data: password }));
}

/** Returns false when there is no such password or it was already revoked. */
export async function revokeAppPassword(tx: Tx, id: string, at: Date): Promise<boolean> {
  const { count } = await tx.appPassword.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
  return count === 1;
}

/** Like rehashApplicationSecret: the state version moves so every worker sees the new hash. */
export async function rehashAppPassword(db: Db, id: string, hash: string): Promise<void> {
  await adminTransaction(db, (tx) => tx.appPassword.updateMany({ where: { id, revokedAt: null }, data: { hash } }));
}

/** Service-account usernames and client ids share one namespace. */
export async function isIdentifierTaken(db: Db | Tx, name: string): Promise<boolean> {
  const [app, account] = await Promise.all([
    db.application.findUnique({ where: { clientId: name }, select: { id: true } }),
    db.serviceAccount.findUnique({ where: { username: name }, select: { id: true } }),
  ]);
  return app !== null || account !== null;
}

export async function listServiceAccounts(db: Db | Tx): Promise<ServiceAccount[]> {
  return (await db.serviceAccount.findMany({ orderBy: { username: 'asc' }, include: withBindings })).map(toServiceAccount);
}

export type ServiceAccountChanges = Partial<Pick<ServiceAccount, 'displayName' | 'groups' | 'permissions' | 'attributes' | 'enabled'>>;

export async function updateServiceAccount(tx: Tx, username: string, changes: ServiceAccountChanges): Promise<void> {
  const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
  await tx.serviceAccount.update({
    where: { username },
    data: {
      displayName: changes.displayName,
      groups: json(changes.groups),
      permissions: json(changes.permissions),
      attributes: json(changes.attributes),
      enabled: changes.enabled,
    },
  });
}

/** Deletes service accounts; their app passwords and bindings go with them (ON DELETE CASCADE). */
export async function deleteServiceAccounts(tx: Tx, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return (await tx.serviceAccount.deleteMany({ where: { id: { in: ids } } })).count;
}
