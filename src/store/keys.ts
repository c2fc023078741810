import type { SigningKey as Row } from './generated/client.ts';
import type { Db, Tx } from './prisma.ts';
import { jsonObject } from './json.ts';
import { overwriteWhatIsRemoved } from './secure-delete.ts';
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
  if (change.privateKey !== undefined) await overwriteWhatIsRemoved(tx);
  return toRecord(await tx.signingKey.update({ where: { kid }, data: change }));
}

/** A next key that never signed anything, replaced by one of another algorithm. */
export async function deleteSigningKey(tx: Tx, kid: string): Promise<void> {
  await overwriteWhatIsRemoved(tx);
  await tx.signingKey.delete({ where: { kid } });
}

export { checkpointWiped } from './secure-delete.ts';
