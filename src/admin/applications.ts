import { z } from 'zod';
import { generateSecret } from '../secrets/format.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { findApplication, insertApplication, listApplications, setApplicationEnabled, setApplicationSecret } from '../store/applications.ts';
import { isIdentifierTaken } from '../store/service-accounts.ts';
import type { Db, Tx } from '../store/prisma.ts';
import type { Application, PolicyMode } from '../store/types.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { check, grantTypes, identifier, scopeToken } from './input.ts';

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
}

const audience = z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'must be printable without spaces');

export async function createApplication(ctx: AdminContext, input: CreateApplicationInput): Promise<{ app: Application; secret?: string }> {
  const clientId = check(identifier, input.clientId, 'client_id');
  const scopes = check(z.array(scopeToken), input.scopes, 'scope');
  const defaultScopes = check(z.array(scopeToken), input.defaultScopes, 'default scope');
  const missing = defaultScopes.find((s) => !scopes.includes(s));
  if (missing) throw new AdminError(`default scope ${JSON.stringify(missing)} is not among the application's scopes`);
  const audiences = check(z.array(audience), input.audiences, 'audience');
  if (audiences.length === 0) throw new AdminError('give at least one --audiences: every access token names its audience, and the first is the default');
  const ttl = input.ttlSeconds === undefined ? null : check(z.number().int().min(30).max(86_400), input.ttlSeconds, 'ttl');
  const policyMode = check(z.enum(['all', 'any']), input.policyMode ?? 'all', 'policy mode') as PolicyMode;
  const grants = grantTypes(input.grants.length > 0 ? input.grants : ['client_credentials']);
  const secret = input.withSecret ? generateSecret('client-secret') : undefined;
  const secretHash = secret ? await ctx.hasher.hash(secret.secret) : null;

  const app = await adminTransaction(ctx.db, async (tx) => {
    if (await isIdentifierTaken(tx, clientId)) throw new AdminError(`${clientId} is already a client_id or service-account username`);
    const created = await insertApplication(tx, {
      clientId,
      name: input.name ?? clientId,
      secretHash,
      secretId: secret?.id ?? null,
      grantTypes: grants,
      scopes: [...new Set(scopes)],
      defaultScopes: [...new Set(defaultScopes)],
      audiences: [...new Set(audiences)],
      accessTokenTtl: ttl,
      policyMode,
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

export async function disableApplication(ctx: AdminContext, clientId: string): Promise<Application> {
  await requireApplication(ctx, clientId);
  await adminTransaction(ctx.db, async (tx) => {
    await setApplicationEnabled(tx, clientId, false);
    await recordAdminChange(tx, { action: 'app.disabled', clientId });
  });
  return requireApplication(ctx, clientId);
}
