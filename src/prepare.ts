import type { Config } from './config.ts';
import { loadKeyEncryptionKey } from './keys/key-encryption-key.ts';
import { Keystore } from './keys/keystore.ts';
import { ensureActiveSigningKey } from './keys/provision.ts';
import { listSigningKeys } from './store/keys.ts';
import type { Logger } from './logger.ts';
import { migrate } from './store/migrate.ts';
import { createPrisma } from './store/prisma.ts';
import { openSqliteFile } from './store/sqlite-file.ts';

/**
 * Everything that happens once per deployment start, before any worker serves: the database file
 * and its migrations, the key-encryption key, a first signing key. Returns the key-encryption key.
 */
export async function prepare(config: Config, log: Logger): Promise<Buffer> {
  const sqlite = openSqliteFile(config.databaseFile);
  try {
    const applied = migrate(sqlite);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
  } finally {
    sqlite.close();
  }
  const kek = loadKeyEncryptionKey(config.keyEncryptionKey, config.dataDir, (path) =>
    log.warn({ path }, 'KEY_ENCRYPTION_KEY is not set: generated one into the data directory; back it up with the database, or set KEY_ENCRYPTION_KEY'),
  );
  const db = createPrisma(config.databaseFile);
  try {
    const created = await ensureActiveSigningKey(db, config, kek);
    if (created) log.info({ kid: created.kid, alg: created.alg }, 'generated the first signing key');
    // fails here, once, when the key-encryption key is not the one the keys were sealed with
    await Keystore.load(await listSigningKeys(db), kek);
  } finally {
    await db.$disconnect();
  }
  return kek;
}
