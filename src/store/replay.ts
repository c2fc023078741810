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

export async function purgeUsedAssertions(db: Db, before: Date): Promise<number> {
  return (await db.usedAssertion.deleteMany({ where: { expiresAt: { lt: before } } })).count;
}
