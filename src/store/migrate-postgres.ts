import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { PACKAGE_ROOT } from '../package-root.ts';
import { mustApply, readMigrations, type AppliedRow, type Migration } from './migrate.ts';
import { quoteIdentifier } from './postgres-url.ts';

/** The PostgreSQL migrations, in Prisma Migrate's own layout beside prisma/postgresql/schema.prisma. */
export const POSTGRES_MIGRATIONS_DIR = join(PACKAGE_ROOT, 'prisma', 'postgresql', 'migrations');

/**
 * The session-level advisory lock `prisma migrate deploy` takes: holding the same one, our start-up
 * and Prisma's command never migrate one database at the same time.
 */
export const MIGRATION_LOCK = 72707369;

// The table exactly as Prisma Migrate creates it on PostgreSQL.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class LockTimeoutError extends Error {}

/**
 * Runs `work` while this session holds the advisory lock `key`, waiting up to `waitMs` for another
 * session (another node starting at the same moment) to let go of it. The lock belongs to the
 * client's connection: it is released when `work` ends, or by the server if the connection drops.
 */
export async function withAdvisoryLock<T>(client: ClientBase, key: number, work: () => Promise<T>, waitMs = 60_000, onWait?: () => void): Promise<T> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    if (rows[0]!.locked) break;
    if (!told) onWait?.();
    told = true;
    if (Date.now() >= deadline) throw new LockTimeoutError(`another process has held the database's advisory lock ${key} for over ${Math.round(waitMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 100));
  }
  let result: T;
  try {
    result = await work();
  } catch (error) {
    // the work's error is the one to report; a session that cannot unlock is ended by the caller
    await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {});
    throw error;
  }
  await client.query('SELECT pg_advisory_unlock($1)', [key]);
  return result;
}

/**
 * Applies the migrations not yet recorded, each with its record in one transaction, and records
 * them in `_prisma_migrations` as Prisma does. The caller holds MIGRATION_LOCK (withAdvisoryLock):
 * the history read here cannot change under it. Creates the configured schema when it is missing.
 */
export async function migratePostgres(client: ClientBase, schema: string | undefined, migrations: Migration[] = readMigrations(POSTGRES_MIGRATIONS_DIR)): Promise<string[]> {
  // looked up first: a role that owns an existing schema need not be allowed to create one
  if (schema && (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 0) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  }
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
  const applied: string[] = [];
  for (const migration of migrations) {
    if (!mustApply(rows.filter((row) => row.migration_name === migration.name), migration)) continue;
    await client.query('BEGIN');
    try {
      const { rows: started } = await client.query<{ now: Date }>('SELECT clock_timestamp() AS now');
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
        [randomUUID(), migration.checksum, migration.name, started[0]!.now],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    applied.push(migration.name);
  }
  return applied;
}

/** True when every migration is recorded as applied, unchanged: a node must not serve otherwise. */
export async function isPostgresMigrated(client: ClientBase, migrations: Migration[] = readMigrations(POSTGRES_MIGRATIONS_DIR)): Promise<boolean> {
  const { rows: exists } = await client.query<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`);
  if (!exists[0]?.t) return false;
  const { rows } = await client.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
  return migrations.every((m) => {
    try {
      return !mustApply(rows.filter((row) => row.migration_name === m.name), m);
    } catch {
      return false;
    }
  });
}
