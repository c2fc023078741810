import { decodeJwt } from 'jose';
import { policyContext } from '../policies/context.ts';
import { decide, type PolicyDecision } from '../policies/evaluate.ts';
import { compilePolicy, POLICY_KINDS, PolicyExpressionError, type PolicyKind } from '../policies/expression.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { findApplication } from '../store/applications.ts';
import { bindPolicy, deletePolicy, findPolicy, insertPolicy, listPolicies, unbindPolicy, updatePolicy } from '../store/policies.ts';
import { findServiceAccount } from '../store/service-accounts.ts';
import type { PolicyRecord } from '../store/types.ts';
import { applicationIdsOf } from './applications.ts';
import type { AdminContext } from './context.ts';
import { refuseWhileBound } from './dependents.ts';
import { AdminError } from './errors.ts';
import { check, identifier } from './input.ts';

/** Compiles now, so that a broken expression is refused here and never at request time. */
function compiled(expression: string, kind: PolicyKind): void {
  try {
    compilePolicy(expression, kind);
  } catch (error) {
    if (error instanceof PolicyExpressionError) throw new AdminError(`the expression is refused: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    throw error;
  }
}

function kindOf(value: string | undefined): PolicyKind {
  const kind = value ?? 'allow';
  if (!POLICY_KINDS.includes(kind as PolicyKind)) throw new AdminError('--kind must be allow or claims');
  return kind as PolicyKind;
}

export async function addPolicy(
  ctx: AdminContext,
  input: { name: string; clientIds: string[]; expression: string; kind?: string; description?: string },
): Promise<PolicyRecord> {
  const name = check(identifier, input.name, 'name');
  const kind = kindOf(input.kind);
  if (input.clientIds.length === 0) throw new AdminError('give at least one --app: a policy applies to the applications it is bound to');
  compiled(input.expression, kind);
  return adminTransaction(ctx.db, async (tx) => {
    if (await findPolicy(tx, name)) throw new AdminError(`a policy named ${name} exists already`);
    const policy = await insertPolicy(tx, { name, kind, expression: input.expression.trim(), description: input.description ?? '', enabled: true });
    for (const applicationId of await applicationIdsOf(tx, input.clientIds)) await bindPolicy(tx, policy.id, applicationId);
    await recordAdminChange(tx, { action: 'policy.added', applications: input.clientIds, details: { name, kind } });
    return (await findPolicy(tx, name))!;
  });
}

export function listAllPolicies(ctx: AdminContext): Promise<PolicyRecord[]> {
  return listPolicies(ctx.db);
}

export async function requirePolicy(ctx: AdminContext, name: string): Promise<PolicyRecord> {
  const policy = await findPolicy(ctx.db, name);
  if (!policy) throw new AdminError(`no policy ${JSON.stringify(name)}`);
  return policy;
}

export interface PolicyChanges {
  expression?: string;
  description?: string;
  enabled?: boolean;
  bind?: string[];
  unbind?: string[];
}

export async function changePolicy(ctx: AdminContext, name: string, changes: PolicyChanges): Promise<PolicyRecord> {
  const current = await requirePolicy(ctx, name);
  if (changes.expression !== undefined) compiled(changes.expression, current.kind);
  return adminTransaction(ctx.db, async (tx) => {
    const policy = await findPolicy(tx, name);
    if (!policy) throw new AdminError(`no policy ${JSON.stringify(name)}`);
    await updatePolicy(tx, name, {
      ...(changes.expression !== undefined ? { expression: changes.expression.trim() } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
    });
    for (const applicationId of await applicationIdsOf(tx, changes.bind ?? [])) {
      if (!policy.bindings.some((b) => b.applicationId === applicationId)) await bindPolicy(tx, policy.id, applicationId);
    }
    for (const clientId of new Set(changes.unbind ?? [])) {
      const app = await findApplication(tx, clientId);
      if (!app || !(await unbindPolicy(tx, policy.id, app.id))) throw new AdminError(`policy ${name} is not bound to ${JSON.stringify(clientId)}`);
    }
    const updated = (await findPolicy(tx, name))!;
    // the applications it was bound to before or is bound to now: an unbound one sees the change too
    const applications = [...policy.bindings, ...updated.bindings].map((b) => b.clientId);
    await recordAdminChange(tx, { action: 'policy.updated', applications, details: { name, changed: Object.keys(changes).filter((k) => changes[k as keyof PolicyChanges] !== undefined) } });
    return updated;
  });
}

/** Deletes a policy; while it is bound to applications (whose requests it decides), only with `force`. */
export async function removePolicy(ctx: AdminContext, name: string, force = false): Promise<PolicyRecord> {
  return adminTransaction(ctx.db, async (tx) => {
    const policy = await findPolicy(tx, name);
    if (!policy) throw new AdminError(`no policy ${JSON.stringify(name)}`);
    const applications = policy.bindings.map((b) => b.clientId);
    refuseWhileBound(`policy ${name}`, applications, force);
    await deletePolicy(tx, name);
    await recordAdminChange(tx, { action: 'policy.removed', applications, details: { name } });
    return policy;
  });
}

export interface PolicyTestInput {
  name: string;
  /** the input JWT, and the file it was read from (for messages) */
  jwt?: { text: string; file: string };
  username?: string;
  clientId?: string;
  ip?: string;
  scopes?: string[];
  grantType?: string;
}

/**
 * Evaluates one policy as a token request would, without issuing anything. The JWT's signature is
 * not checked: this tests the policy, not the JWT.
 */
export async function testPolicy(ctx: AdminContext, input: PolicyTestInput): Promise<{ policy: PolicyRecord; client_id: string; decision: PolicyDecision }> {
  const policy = await requirePolicy(ctx, input.name);
  const clientId = input.clientId ?? policy.bindings[0]?.clientId;
  if (!clientId) throw new AdminError('the policy is bound to no application: give --app');
  const app = await findApplication(ctx.db, clientId);
  if (!app) throw new AdminError(`no application ${JSON.stringify(clientId)}`);
  let jwtClaims: Record<string, unknown> | undefined;
  if (input.jwt !== undefined) {
    const text = input.jwt.text.trim();
    try {
      jwtClaims = decodeJwt(text) as Record<string, unknown>;
    } catch {
      throw new AdminError(`${input.jwt.file} does not hold a JWT`);
    }
  }
  const serviceAccount = input.username === undefined ? undefined : await findServiceAccount(ctx.db, input.username);
  if (input.username !== undefined && !serviceAccount) throw new AdminError(`no service account ${JSON.stringify(input.username)}`);
  const context = policyContext(app, input.scopes ?? app.defaultScopes, {
    grantType: input.grantType ?? (jwtClaims ? 'urn:ietf:params:oauth:grant-type:jwt-bearer' : 'client_credentials'),
    ip: input.ip ?? '127.0.0.1',
    jwtClaims,
    serviceAccount: serviceAccount ?? undefined,
  });
  let compiledPolicy;
  try {
    compiledPolicy = compilePolicy(policy.expression, policy.kind);
  } catch (error) {
    throw new AdminError(`the stored expression no longer compiles: ${(error as Error).message}`);
  }
  return { policy, client_id: clientId, decision: decide([{ name: policy.name, compiled: compiledPolicy }], 'all', context) };
}
