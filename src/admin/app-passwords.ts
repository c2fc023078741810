import { z } from 'zod';
import { generateSecret } from '../secrets/format.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { findAppPassword, insertAppPassword, listAppPasswords, revokeAppPassword } from '../store/service-accounts.ts';
import type { AppPassword } from '../store/types.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { check, parseDuration } from './input.ts';
import { requireServiceAccount, type IssuedAppPassword } from './service-accounts.ts';

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
