import type { Config } from '../config.ts';
import type { Db } from '../store/prisma.ts';
import { insertSigningKey, listSigningKeys } from '../store/keys.ts';
import { adminTransaction } from '../store/admin-change.ts';
import type { SigningKeyRecord } from '../store/types.ts';
import { generateSigningKey } from './generate.ts';

/** On first start there is no key: make one active. Returns the key that was created, if any. */
export async function ensureActiveSigningKey(db: Db, config: Config, kek: Buffer): Promise<SigningKeyRecord | null> {
  const existing = await listSigningKeys(db);
  if (existing.some((k) => k.state === 'active')) return null;
  const key = await generateSigningKey(config.signingAlg, kek);
  return adminTransaction(db, async (tx) => {
    // another process may have won the race while the key was being generated
    if ((await tx.signingKey.count({ where: { state: 'active' } })) > 0) return null;
    const now = new Date();
    return insertSigningKey(tx, { ...key, state: 'active', activatedAt: now, createdAt: now });
  });
}
