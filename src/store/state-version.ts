import type { Db, Tx } from './prisma.ts';

/**
 * Every admin change moves the version, in the same transaction, so running servers drop their
 * caches. A single UPDATE (the row is seeded by the first migration): as a transaction's first
 * statement it takes SQLite's write lock without reading first.
 */
export async function bumpStateVersion(tx: Tx): Promise<void> {
  const changed = await tx.$executeRaw`UPDATE "state_version" SET "version" = "version" + 1 WHERE "id" = 1`;
  if (changed !== 1) throw new Error('the state_version row is missing: the database was not migrated');
}

export async function readStateVersion(db: Db): Promise<number> {
  return (await db.stateVersion.findUnique({ where: { id: 1 } }))?.version ?? 0;
}
