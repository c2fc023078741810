import { providerOf, type Db, type Tx } from './prisma.ts';

/** The transaction-level advisory lock that makes revocation ids commit in order on PostgreSQL. */
const REVOCATION_ORDER_LOCK = 727_073_693;

/**
 * Serving processes poll revocations by id (revocationsAfter), which misses none only if ids become
 * visible in order. SQLite's single writer does that by itself. PostgreSQL hands out ids when rows
 * are inserted, and transactions commit in any order: so every transaction that inserts a
 * revocation first takes this lock, held until it commits, and the next id is only drawn after the
 * previous one is visible.
 */
async function inIdOrder(tx: Tx): Promise<void> {
  if (providerOf(tx) === 'postgresql') await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${REVOCATION_ORDER_LOCK})`);
}

/** One revocation as the serving processes load it. */
export interface RevocationRecord {
  id: number;
  /** one token; null for an application-wide revocation */
  jti: string | null;
  clientId: string | null;
  /** application-wide: tokens issued before this moment */
  issuedBefore: Date | null;
  expiresAt: Date;
}

const SELECTED = { id: true, jti: true, clientId: true, issuedBefore: true, expiresAt: true } as const;

/**
 * Revokes one token by its jti. False when it was revoked before (the earlier record stands: its
 * expiry is the token's own); the unique jti decides, even between processes at the same moment.
 */
export async function revokeTokenId(db: Db, revocation: { jti: string; clientId: string | null; expiresAt: Date }): Promise<RevocationRecord | null> {
  try {
    if (providerOf(db) === 'postgresql') {
      return await db.$transaction(async (tx) => {
        await inIdOrder(tx);
        return tx.tokenRevocation.create({ data: revocation, select: SELECTED });
      });
    }
    return await db.tokenRevocation.create({ data: revocation, select: SELECTED });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'P2002') return null;
    throw error;
  }
}

/** The same inside an admin transaction, whose write lock is already held: looked up first, so no statement fails. */
export async function revokeTokenIdInTransaction(tx: Tx, revocation: { jti: string; clientId: string | null; expiresAt: Date }): Promise<RevocationRecord | null> {
  if (await tx.tokenRevocation.findUnique({ where: { jti: revocation.jti }, select: { id: true } })) return null;
  await inIdOrder(tx);
  return tx.tokenRevocation.create({ data: revocation, select: SELECTED });
}

export async function revokeIssuedBefore(tx: Tx, revocation: { clientId: string; issuedBefore: Date; expiresAt: Date }): Promise<RevocationRecord> {
  await inIdOrder(tx);
  return tx.tokenRevocation.create({ data: revocation, select: SELECTED });
}

/**
 * The revocations recorded after `afterId`, in the order they were recorded (ids become visible in
 * commit order: SQLite has one writer, and on PostgreSQL inserts take inIdOrder's lock), so polling
 * by id misses none.
 */
export async function revocationsAfter(db: Db, afterId: number, limit: number): Promise<RevocationRecord[]> {
  return db.tokenRevocation.findMany({ where: { id: { gt: afterId } }, orderBy: { id: 'asc' }, take: limit, select: SELECTED });
}

/** Deletes about `limit` revocations that expired before `before`, oldest first; returns how many. */
export async function purgeRevocationBatch(db: Db, before: Date, limit: number): Promise<number> {
  const edge = await db.tokenRevocation.findFirst({ where: { expiresAt: { lt: before } }, orderBy: { expiresAt: 'asc' }, skip: limit - 1, select: { expiresAt: true } });
  const where = edge ? { expiresAt: { lte: edge.expiresAt, lt: before } } : { expiresAt: { lt: before } };
  return (await db.tokenRevocation.deleteMany({ where })).count;
}
