import type { SigningKey as Row } from './generated/client.ts';
import type { Db, Tx } from './prisma.ts';
import { jsonObject } from './json.ts';
import type { SigningKeyRecord, SigningKeyState } from './types.ts';

function toRecord(row: Row): SigningKeyRecord {
  return { ...row, state: row.state as SigningKeyState, publicJwk: jsonObject(row.publicJwk) };
}

export async function listSigningKeys(db: Db | Tx): Promise<SigningKeyRecord[]> {
  return (await db.signingKey.findMany({ orderBy: { createdAt: 'asc' } })).map(toRecord);
}

export async function insertSigningKey(
  tx: Tx,
  key: { kid: string; alg: string; state: SigningKeyState; publicJwk: Record<string, unknown>; privateKey: string; activatedAt: Date | null; promoteAt?: Date | null; createdAt?: Date },
): Promise<SigningKeyRecord> {
  return toRecord(await tx.signingKey.create({ data: { ...key, publicJwk: JSON.stringify(key.publicJwk) } }));
}

export type SigningKeyChange = Partial<Pick<SigningKeyRecord, 'state' | 'promoteAt' | 'activatedAt' | 'retiredAt' | 'publishUntil' | 'removedAt' | 'privateKey'>>;

export async function updateSigningKey(tx: Tx, kid: string, change: SigningKeyChange): Promise<SigningKeyRecord> {
  // a wiped private key is overwritten in the file, not left in its free space
  if (change.privateKey !== undefined) await tx.$executeRawUnsafe('PRAGMA secure_delete = ON');
  return toRecord(await tx.signingKey.update({ where: { kid }, data: change }));
}

/** A next key that never signed anything, replaced by one of another algorithm. */
export async function deleteSigningKey(tx: Tx, kid: string): Promise<void> {
  await tx.$executeRawUnsafe('PRAGMA secure_delete = ON');
  await tx.signingKey.delete({ where: { kid } });
}

/**
 * Copies the write-ahead log into the database file and empties it, so that the page images of a
 * wiped key it still held are gone too. Best effort: readers can keep it from finishing, and the
 * next checkpoint does it then.
 */
export async function checkpointWiped(db: Db): Promise<void> {
  try {
    await db.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch {
    // a busy database: SQLite checkpoints again on its own
  }
}
