import { z } from 'zod';
import { generateSecret } from '../secrets/format.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import {
  findAppPassword,
  findServiceAccount,
  insertAppPassword,
  insertServiceAccount,
  isIdentifierTaken,
  listAppPasswords,
  revokeAppPassword,
} from '../store/service-accounts.ts';
import type { AppPassword, ServiceAccount } from '../store/types.ts';
import { existingApplication } from './applications.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { check, identifier, parseDuration } from './input.ts';

const label = z.string().min(1).max(256).regex(/^[^\s,]+$/, 'must not contain spaces or commas');

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

export async function requireServiceAccount(ctx: AdminContext, username: string): Promise<ServiceAccount> {
  const account = await findServiceAccount(ctx.db, username);
  if (!account) throw new AdminError(`no service account ${JSON.stringify(username)}`);
  return account;
}

export async function createAppPassword(
  ctx: AdminContext,
  input: { username: string; description?: string; expires?: string },
): Promise<IssuedAppPassword> {
  const account = await requireServiceAccount(ctx, input.username);
  const description = check(z.string().max(256), input.description ?? '', 'description');
  const expiresAt = input.expires ? new Date(Date.now() + parseDuration(input.expires, '--expires')) : null;
  const secret = generateSecret('app-password');
  const hash = await ctx.hasher.hash(secret.secret);
  await adminTransaction(ctx.db, async (tx) => {
    await insertAppPassword(tx, { id: secret.id, serviceAccountId: account.id, hash, description, expiresAt });
    await recordAdminChange(tx, { action: 'app_password.created', subject: account.username, details: { app_password_id: secret.id } });
  });
  return { id: secret.id, secret: secret.secret, expiresAt };
}

export async function listPasswordsOf(ctx: AdminContext, username: string): Promise<AppPassword[]> {
  const account = await requireServiceAccount(ctx, username);
  return listAppPasswords(ctx.db, account.id);
}

export async function revokePassword(ctx: AdminContext, id: string): Promise<AppPassword> {
  const revoked = await adminTransaction(ctx.db, async (tx) => {
    const record = await findAppPassword(tx, id);
    if (!record) throw new AdminError(`no app password ${JSON.stringify(id)}`);
    if (!(await revokeAppPassword(tx, id, new Date()))) throw new AdminError(`app password ${id} is already revoked`);
    await recordAdminChange(tx, { action: 'app_password.revoked', details: { app_password_id: id, service_account_id: record.serviceAccountId } });
    return record;
  });
  return (await findAppPassword(ctx.db, revoked.id))!;
}
