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

/**
 * Read every 500 ms by every process, and first when it starts: as plain SQL, which Prisma runs
 * without its query compiler (about 0.1 ms instead of 0.5 once warm, and no compilation at start).
 */
export async function readStateVersion(db: Db): Promise<number> {
  const rows = await db.$queryRaw<{ version: number | bigint }[]>`SELECT "version" FROM "state_version" WHERE "id" = 1`;
  return Number(rows[0]?.version ?? 0);
}
