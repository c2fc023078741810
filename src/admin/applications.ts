import { generateSecret } from '../secrets/format.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { findApplication, insertApplication, listApplications, setApplicationEnabled, setApplicationSecret, updateApplication } from '../store/applications.ts';
import { isIdentifierTaken } from '../store/service-accounts.ts';
import type { Db, Tx } from '../store/prisma.ts';
import type { Application } from '../store/types.ts';
import { applicationFields, changedFields, NEW_APPLICATION_FIELDS, type ApplicationFieldInput } from './application-fields.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { check, identifier } from './input.ts';

export interface CreateApplicationInput {
  clientId: string;
  name?: string;
  withSecret: boolean;
  grants: string[];
  scopes: string[];
  defaultScopes: string[];
  audiences: string[];
  ttlSeconds?: number;
  policyMode?: string;
  authMethods?: string[];
}

export async function createApplication(ctx: AdminContext, input: CreateApplicationInput): Promise<{ app: Application; secret?: string }> {
  const clientId = check(identifier, input.clientId, 'client_id');
  const fields = applicationFields(
    {
      scopes: input.scopes,
      defaultScopes: input.defaultScopes,
      audiences: input.audiences,
      ttlSeconds: input.ttlSeconds,
      policyMode: input.policyMode,
      authMethods: input.authMethods,
      grants: input.grants.length > 0 ? input.grants : undefined,
    },
    { ...NEW_APPLICATION_FIELDS, name: input.name ?? clientId },
  );
  const secret = input.withSecret ? generateSecret('client-secret') : undefined;
  const secretHash = secret ? await ctx.hasher.hash(secret.secret) : null;

  const app = await adminTransaction(ctx.db, async (tx) => {
    if (await isIdentifierTaken(tx, clientId)) throw new AdminError(`${clientId} is already a client_id or service-account username`);
    const created = await insertApplication(tx, {
      clientId,
      ...fields,
      secretHash,
      secretId: secret?.id ?? null,
    });
    await recordAdminChange(tx, { action: 'app.created', clientId, details: { has_secret: secret !== undefined } });
    return created;
  });
  return { app, secret: secret?.secret };
}

export function requireApplication(ctx: AdminContext, clientId: string): Promise<Application> {
  return existingApplication(ctx.db, clientId);
}

/** The application named by --app; an unknown one is an error. */
export async function existingApplication(db: Db | Tx, clientId: string): Promise<Application> {
  const app = await findApplication(db, clientId);
  if (!app) throw new AdminError(`no application ${JSON.stringify(clientId)}`);
  return app;
}

/** The ids of the applications named by repeated --app options, each once. */
export async function applicationIdsOf(tx: Tx, clientIds: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const clientId of new Set(clientIds)) ids.push((await existingApplication(tx, clientId)).id);
  return ids;
}

export function listAllApplications(ctx: AdminContext): Promise<Application[]> {
  return listApplications(ctx.db);
}

/** A new secret replaces the old one at once; the old one stops working within the 2-second rule. */
export async function rotateApplicationSecret(ctx: AdminContext, clientId: string): Promise<{ app: Application; secret: string }> {
  await requireApplication(ctx, clientId);
  const secret = generateSecret('client-secret');
  const hash = await ctx.hasher.hash(secret.secret);
  await adminTransaction(ctx.db, async (tx) => {
    await setApplicationSecret(tx, clientId, secret.id, hash);
    await recordAdminChange(tx, { action: 'app.secret_rotated', clientId });
  });
  return { app: await requireApplication(ctx, clientId), secret: secret.secret };
}

/** `app enable` and `app disable`: a disabled application gets no tokens, nor do its service accounts. */
export async function setApplicationState(ctx: AdminContext, clientId: string, enabled: boolean): Promise<Application> {
  await adminTransaction(ctx.db, async (tx) => {
    await existingApplication(tx, clientId);
    await setApplicationEnabled(tx, clientId, enabled);
    await recordAdminChange(tx, { action: enabled ? 'app.enabled' : 'app.disabled', clientId });
  });
  return requireApplication(ctx, clientId);
}

/** Changes the given settings only, checked as `app create` checks them; nothing is written when nothing differs. */
export async function changeApplication(ctx: AdminContext, clientId: string, input: ApplicationFieldInput): Promise<Application> {
  if (Object.values(input).every((v) => v === undefined)) throw new AdminError('nothing to change');
  await adminTransaction(ctx.db, async (tx) => {
    const current = await existingApplication(tx, clientId);
    const after = applicationFields(input, current);
    const changes = changedFields(current, after);
    if (Object.keys(changes).length === 0) return;
    await updateApplication(tx, clientId, after);
    await recordAdminChange(tx, { action: 'app.updated', clientId, details: { changes } });
  });
  return requireApplication(ctx, clientId);
}
