import { z } from 'zod';
import { generateSecret } from '../secrets/format.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { listApplications } from '../store/applications.ts';
import type { Db, Tx } from '../store/prisma.ts';
import {
  deleteServiceAccounts,
  findServiceAccount,
  insertAppPassword,
  insertServiceAccount,
  isIdentifierTaken,
  listAppPasswords,
  listServiceAccounts,
  updateServiceAccount,
  type ServiceAccountChanges,
} from '../store/service-accounts.ts';
import type { ServiceAccount } from '../store/types.ts';
import { existingApplication } from './applications.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { check, identifier, parseDuration } from './input.ts';
import { LABEL } from './service-account-definition.ts';

const label = LABEL;

export interface IssuedAppPassword {
  id: string;
  secret: string;
  expiresAt: Date | null;
}

/** Like authentik's "Create Service account": the account, its binding and a first app password, in one step. */
export async function createServiceAccount(
  ctx: AdminContext,
  input: { username: string; clientId: string; displayName?: string; groups: string[]; permissions: string[]; expires?: string },
): Promise<{ account: ServiceAccount; password: IssuedAppPassword }> {
  const username = check(identifier, input.username, 'username');
  const groups = check(z.array(label), input.groups, 'group');
  const permissions = check(z.array(label), input.permissions, 'permission');
  const expiresAt = input.expires ? new Date(Date.now() + parseDuration(input.expires, '--expires')) : null;
  const secret = generateSecret('app-password');
  const hash = await ctx.hasher.hash(secret.secret);

  const account = await adminTransaction(ctx.db, async (tx) => {
    const app = await existingApplication(tx, input.clientId);
    if (await isIdentifierTaken(tx, username)) throw new AdminError(`${username} is already a client_id or service-account username`);
    const created = await insertServiceAccount(
      tx,
      { username, displayName: input.displayName ?? username, groups: [...new Set(groups)], permissions: [...new Set(permissions)], attributes: {} },
      app.id,
    );
    await insertAppPassword(tx, { id: secret.id, serviceAccountId: created.id, hash, description: 'created with the account', expiresAt });
    await recordAdminChange(tx, { action: 'service_account.created', clientId: app.clientId, subject: username, details: { app_password_id: secret.id } });
    return created;
  });
  return { account, password: { id: secret.id, secret: secret.secret, expiresAt } };
}

export function requireServiceAccount(ctx: AdminContext, username: string): Promise<ServiceAccount> {
  return existingServiceAccount(ctx.db, username);
}

async function existingServiceAccount(db: Db | Tx, username: string): Promise<ServiceAccount> {
  const account = await findServiceAccount(db, username);
  if (!account) throw new AdminError(`no service account ${JSON.stringify(username)}`);
  return account;
}

/** A service account with the client_ids of the applications it is bound to. */
export interface BoundServiceAccount {
  account: ServiceAccount;
  clientIds: string[];
}

async function withClientIds(db: Db | Tx, accounts: ServiceAccount[]): Promise<BoundServiceAccount[]> {
  const clientIds = new Map((await listApplications(db)).map((app) => [app.id, app.clientId]));
  return accounts.map((account) => ({ account, clientIds: account.applicationIds.flatMap((id) => clientIds.get(id) ?? []).sort() }));
}

export async function listAllServiceAccounts(ctx: AdminContext): Promise<BoundServiceAccount[]> {
  return withClientIds(ctx.db, await listServiceAccounts(ctx.db));
}

export async function boundServiceAccount(ctx: AdminContext, username: string): Promise<BoundServiceAccount> {
  return (await withClientIds(ctx.db, [await requireServiceAccount(ctx, username)]))[0]!;
}

export interface ServiceAccountUpdate {
  displayName?: string;
  groups?: string[];
  permissions?: string[];
  attributes?: Record<string, unknown>;
}

/** `service-account update`: the given fields only; lists replace the current ones. Nothing is written when nothing differs. */
export async function changeServiceAccount(ctx: AdminContext, username: string, input: ServiceAccountUpdate): Promise<BoundServiceAccount> {
  if (Object.values(input).every((v) => v === undefined)) throw new AdminError('nothing to change');
  const given: ServiceAccountChanges = {
    displayName: input.displayName === undefined ? undefined : check(z.string().min(1).max(256), input.displayName, 'display name'),
    groups: input.groups === undefined ? undefined : [...new Set(check(z.array(label), input.groups, 'group'))],
    permissions: input.permissions === undefined ? undefined : [...new Set(check(z.array(label), input.permissions, 'permission'))],
    attributes: input.attributes,
  };
  await adminTransaction(ctx.db, async (tx) => {
    const [bound] = await withClientIds(tx, [await existingServiceAccount(tx, username)]);
    const current = bound!.account;
    const differs = (key: keyof ServiceAccountChanges) => given[key] !== undefined && JSON.stringify(given[key]) !== JSON.stringify(current[key]);
    const changes = Object.fromEntries(Object.entries(given).filter(([key]) => differs(key as keyof ServiceAccountChanges))) as ServiceAccountChanges;
    if (Object.keys(changes).length === 0) return;
    await updateServiceAccount(tx, username, changes);
    const { displayName, groups, permissions, attributes } = changes;
    await recordAdminChange(tx, {
      action: 'service_account.updated',
      subject: username,
      applications: bound!.clientIds,
      details: {
        changed: Object.entries({ display_name: displayName, groups, permissions, attributes }).filter(([, v]) => v !== undefined).map(([k]) => k),
        ...(displayName !== undefined ? { display_name: displayName } : {}),
        ...(groups !== undefined ? { groups } : {}),
        ...(permissions !== undefined ? { permissions } : {}),
        // the keys only: attributes may be long
        ...(attributes !== undefined ? { attribute_keys: Object.keys(attributes) } : {}),
      },
    });
  });
  return boundServiceAccount(ctx, username);
}

/** `service-account enable | disable`: a disabled account's app passwords are refused at the token endpoint. */
export async function setServiceAccountState(ctx: AdminContext, username: string, enabled: boolean): Promise<BoundServiceAccount> {
  await adminTransaction(ctx.db, async (tx) => {
    const [bound] = await withClientIds(tx, [await existingServiceAccount(tx, username)]);
    await updateServiceAccount(tx, username, { enabled });
    await recordAdminChange(tx, { action: enabled ? 'service_account.enabled' : 'service_account.disabled', subject: username, applications: bound!.clientIds });
  });
  return boundServiceAccount(ctx, username);
}

/** Deletes a service account with its app passwords and bindings; nothing else refers to it. */
export async function removeServiceAccount(ctx: AdminContext, username: string): Promise<BoundServiceAccount & { appPasswords: number }> {
  return adminTransaction(ctx.db, async (tx) => {
    const [bound] = await withClientIds(tx, [await existingServiceAccount(tx, username)]);
    const appPasswords = (await listAppPasswords(tx, bound!.account.id)).length;
    await deleteServiceAccounts(tx, [bound!.account.id]);
    await recordAdminChange(tx, { action: 'service_account.deleted', subject: username, applications: bound!.clientIds, details: { app_passwords: appPasswords } });
    return { ...bound!, appPasswords };
  });
}
