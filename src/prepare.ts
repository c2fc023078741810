import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { Config, DatabaseConfig } from './config.ts';
import { readableByOthers } from './file-modes.ts';
import { decryptPrivateKey } from './keys/encryption.ts';
import { keyEncryptionKeyPath, provideKeyEncryptionKey } from './keys/key-encryption-key.ts';
import { Keystore } from './keys/keystore.ts';
import { ensureActiveSigningKey } from './keys/provision.ts';
import { listSigningKeys } from './store/keys.ts';
import type { Logger } from './logger.ts';
import { migrate } from './store/migrate.ts';
import { migratePostgres } from './store/migrate-postgres.ts';
import { withMigrationSession } from './store/postgres-session.ts';
import { postgresTarget, redactedUrl } from './store/postgres-url.ts';
import { createPrisma, type Db } from './store/prisma.ts';
import { describeStorageError } from './store/storage-errors.ts';
import { DatabaseFileError, integrityProblems, openSqliteFile } from './store/sqlite-file.ts';
import { stripStoredPrivateKeys } from './trust/certificate-repair.ts';

/** How long a starting node waits for another node's migration (or the first signing key) to finish. */
const MIGRATION_WAIT_MS = 120_000;

/** The database cannot be reached at start: the operator's to fix, said in one line. */
export class DatabaseUnavailableError extends Error {}

/**
 * Everything that happens once per deployment start, before any worker serves: the database file
 * (checked, migrated), the key-encryption key, a first signing key. Returns the key-encryption key.
 */
export async function prepare(config: Config, log: Logger): Promise<Buffer> {
  if (config.database.kind === 'postgresql') return preparePostgres(config, config.database, log);
  const { fresh, sealedKeys, activeKeys, certificatesToRepair } = prepareDatabaseFile(config, log);
  const kekPath = keyEncryptionKeyPath(config.dataDir);
  if (fresh && !config.keyEncryptionKey && existsSync(kekPath)) {
    log.warn(
      { database: config.databaseFile, key_encryption_key: kekPath },
      'A NEW, EMPTY DATABASE was created next to an existing key-encryption key: if the database was lost or moved, stop tokenmint now and restore it from backup; clients, keys and the audit log of the old one are not in the new one',
    );
  }
  const kek = provideKeyEncryptionKey(config.keyEncryptionKey, config.dataDir, sealedKeys, (path) =>
    log.warn({ path }, 'KEY_ENCRYPTION_KEY is not set: generated one into the data directory; back it up with the database, or set KEY_ENCRYPTION_KEY'),
  );
  warnIfReadableByOthers(log, kek.source === 'KEY_ENCRYPTION_KEY' ? [] : [kek.source]);
  if (activeKeys.length > 0 && certificatesToRepair === 0) {
    // the usual start: a key to sign with and nothing to repair, checked without loading the database client
    try {
      for (const key of activeKeys) decryptPrivateKey(kek.key, key.kid, key.privateKey);
    } catch (error) {
      throw blamingTheKeyEncryptionKey(error, kek.source);
    }
  } else {
    await prepareKeys(await createPrisma(config.databaseFile), config, log, kek.key, kek.source);
  }
  return kek.key;
}

/** A signing key that would not open, with where the key-encryption key in use came from. */
function blamingTheKeyEncryptionKey(error: unknown, kekSource: string): Error {
  return new Error(`${(error as Error).message} (the key-encryption key in use comes from ${kekSource})`);
}

/** A first signing key when there is none; then a check that the key-encryption key opens the keys. */
async function prepareKeys(db: Db, config: Config, log: Logger, kek: Buffer, kekSource: string): Promise<void> {
  try {
    const created = await ensureActiveSigningKey(db, config, kek);
    if (created) log.info({ kid: created.kid, alg: created.alg }, 'generated the first signing key');
    try {
      // fails here, once, when the key-encryption key is not the one the keys were sealed with
      await Keystore.load(await listSigningKeys(db), kek);
    } catch (error) {
      throw blamingTheKeyEncryptionKey(error, kekSource);
    }
    await stripStoredPrivateKeys(db, log);
  } finally {
    await db.$disconnect();
  }
}

/**
 * The start of a node on PostgreSQL. Every node may start at the same moment: the first to take the
 * migration lock (the advisory lock prisma migrate deploy takes too) migrates and makes the first
 * signing key, the others wait for it, find nothing to do, and check the keys open. A node whose
 * start fails here never serves.
 */
async function preparePostgres(config: Config, database: Extract<DatabaseConfig, { kind: 'postgresql' }>, log: Logger): Promise<Buffer> {
  const kek = config.keyEncryptionKey!;
  const target = postgresTarget(database.url);
  await withMigrationSession(
    target,
    async (client) => {
      const applied = await migratePostgres(client, target.schema);
      if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
      await prepareKeys(await createPrisma(database, undefined, 2), config, log, kek, 'KEY_ENCRYPTION_KEY');
    },
    {
      waitMs: MIGRATION_WAIT_MS,
      onWait: () => log.info('another node is migrating the database or making its first key: waiting for it'),
      unreachable: (error) =>
        new DatabaseUnavailableError(`cannot reach the PostgreSQL database ${redactedUrl(database.url)}: ${describeStorageError(error)} (${(error as Error).message})`),
    },
  );
  return kek;
}

interface DatabaseFileState {
  /** it had no tables before this start */
  fresh: boolean;
  /** signing keys stored, in any state */
  sealedKeys: number;
  /** the keys that sign, sealed */
  activeKeys: { kid: string; privateKey: string }[];
  /** certificates an earlier version may have stored with their private key (stripStoredPrivateKeys) */
  certificatesToRepair: number;
}

/** Opens (or creates) the database file, refuses a corrupt one, applies pending migrations, and reads what the keys need. */
function prepareDatabaseFile(config: Config, log: Logger): DatabaseFileState {
  const sqlite = openSqliteFile(config.databaseFile);
  try {
    const problems = integrityProblems(sqlite, 'quick');
    if (problems.length > 0) {
      throw new DatabaseFileError(
        `the database ${config.databaseFile} is corrupt (${problems.slice(0, 3).join('; ')}): restore it from a backup (see README, Backups); npm run admin -- check runs the full integrity check`,
      );
    }
    const fresh = tableCount(sqlite) === 0;
    const applied = migrate(sqlite);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    const sealedKeys = (sqlite.prepare('SELECT COUNT(*) AS n FROM "signing_keys"').get() as { n: number }).n;
    const activeKeys = sqlite.prepare(`SELECT "kid", "private_key" AS "privateKey" FROM "signing_keys" WHERE "state" = 'active'`).all() as DatabaseFileState['activeKeys'];
    // as wide as the client's `contains` (LIKE ignores ASCII case): anything it could repair takes the slower path
    const certificatesToRepair = (sqlite.prepare(`SELECT COUNT(*) AS n FROM "verification_certificates" WHERE "pem" LIKE '%PRIVATE%'`).get() as { n: number }).n;
    return { fresh, sealedKeys, activeKeys, certificatesToRepair };
  } finally {
    sqlite.close();
    warnIfReadableByOthers(log, [config.databaseFile, `${config.databaseFile}-wal`]);
  }
}

function tableCount(sqlite: Database.Database): number {
  return (sqlite.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'`).get() as { n: number }).n;
}

function warnIfReadableByOthers(log: Logger, paths: string[]): void {
  for (const path of paths) {
    const mode = readableByOthers(path);
    if (mode) log.warn({ path, mode }, `${path} is readable by other users (mode ${mode}); it holds secrets' hashes or sealed keys: chmod 600 it`);
  }
}
