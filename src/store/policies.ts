import type { Db, Tx } from './prisma.ts';
import type { PolicyRecord } from './types.ts';

export type NewPolicy = Pick<PolicyRecord, 'name' | 'kind' | 'expression' | 'description' | 'enabled'>;

const withApps = { applications: { select: { position: true, application: { select: { id: true, clientId: true } } } } } as const;
type Row = Awaited<ReturnType<Db['policy']['findFirstOrThrow']>> & {
  applications: { position: number; application: { id: number; clientId: string } }[];
};

function toPolicy(row: Row): PolicyRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as PolicyRecord['kind'],
    expression: row.expression,
    description: row.description,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    bindings: row.applications.map((b) => ({ applicationId: b.application.id, clientId: b.application.clientId, position: b.position })),
  };
}

export async function insertPolicy(tx: Tx, policy: NewPolicy): Promise<PolicyRecord> {
  return toPolicy(await tx.policy.create({ data: policy, include: withApps }));
}

export async function updatePolicy(tx: Tx, name: string, changes: Partial<Pick<PolicyRecord, 'expression' | 'description' | 'enabled'>>): Promise<PolicyRecord> {
  return toPolicy(await tx.policy.update({ where: { name }, data: changes, include: withApps }));
}

export async function findPolicy(db: Db | Tx, name: string): Promise<PolicyRecord | null> {
  const row = await db.policy.findUnique({ where: { name }, include: withApps });
  return row ? toPolicy(row) : null;
}

export async function listPolicies(db: Db | Tx): Promise<PolicyRecord[]> {
  return (await db.policy.findMany({ orderBy: { name: 'asc' }, include: withApps })).map(toPolicy);
}

/** Binds a policy to an application after the policies it already has. */
export async function bindPolicy(tx: Tx, policyId: number, applicationId: number): Promise<void> {
  const last = await tx.policyBinding.aggregate({ where: { applicationId }, _max: { position: true } });
  await tx.policyBinding.create({ data: { policyId, applicationId, position: (last._max.position ?? 0) + 1 } });
}

export async function unbindPolicy(tx: Tx, policyId: number, applicationId: number): Promise<boolean> {
  const { count } = await tx.policyBinding.deleteMany({ where: { policyId, applicationId } });
  return count === 1;
}

export async function deletePolicy(tx: Tx, name: string): Promise<boolean> {
  const { count } = await tx.policy.deleteMany({ where: { name } });
  return count === 1;
}
