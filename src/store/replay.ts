import type { Db } from './prisma.ts';

/**
 * Records (issuer, jti) once. True for the first use; false when it was used before, even by
 * another process at the same moment: the primary key decides, never a look-up first.
 */
export async function recordFirstUse(db: Db, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  try {
    await db.usedAssertion.create({ data: { issuer, jti, expiresAt } });
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'P2002') return false;
    throw error;
  }
}

/**
 * Deletes about `limit` of the replay records that expired before `before`, oldest first (those
 * sharing the last one's expiry go too); returns how many it deleted.
 */
export async function purgeUsedAssertionBatch(db: Db, before: Date, limit: number): Promise<number> {
  const edge = await db.usedAssertion.findFirst({ where: { expiresAt: { lt: before } }, orderBy: { expiresAt: 'asc' }, skip: limit - 1, select: { expiresAt: true } });
  const where = edge ? { expiresAt: { lte: edge.expiresAt, lt: before } } : { expiresAt: { lt: before } };
  return (await db.usedAssertion.deleteMany({ where })).count;
}

/** Every replay record that expired before `before`, in batches; returns how many were deleted. */
export async function purgeUsedAssertions(db: Db, before: Date, limit = 2000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await purgeUsedAssertionBatch(db, before, limit);
    total += deleted;
    if (deleted < limit) return total;
  }
}
