import { providerOf, type Db, type Tx } from './prisma.ts';

/**
 * Makes the transaction's deletes and updates overwrite the old text in the file (SQLite's
 * secure_delete), for a wiped private key or a stripped certificate. PostgreSQL has no such
 * setting: the old row version stays in the table until VACUUM reclaims its space (and in the
 * write-ahead log, its archives, replicas and backups), sealed under the key-encryption key.
 */
export async function overwriteWhatIsRemoved(tx: Tx): Promise<void> {
  if (providerOf(tx) === 'sqlite') await tx.$executeRawUnsafe('PRAGMA secure_delete = ON');
}

/**
 * Copies SQLite's write-ahead log into the database file and empties it, so the page images of a
 * wiped key it still held are gone too. Best effort: readers can keep it from finishing, and the
 * next checkpoint does it then. PostgreSQL has no such log in its files to empty.
 */
export async function checkpointWiped(db: Db): Promise<void> {
  if (providerOf(db) !== 'sqlite') return;
  try {
    await db.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch {
    // a busy database: SQLite checkpoints again on its own
  }
}
