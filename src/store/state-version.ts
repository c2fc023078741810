import type { Db, Tx } from './prisma.ts';

/** Every admin change moves the version, in the same transaction, so running servers drop their caches. */
export async function bumpStateVersion(tx: Tx): Promise<void> {
  await tx.stateVersion.upsert({ where: { id: 1 }, create: { id: 1, version: 1 }, update: { version: { increment: 1 } } });
}

export async function readStateVersion(db: Db): Promise<number> {
  return (await db.stateVersion.findUnique({ where: { id: 1 } }))?.version ?? 0;
}
