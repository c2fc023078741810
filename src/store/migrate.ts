import type Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/** Where the migrations live, in Prisma Migrate's own layout. */
export const MIGRATIONS_DIR = join(PACKAGE_ROOT, 'prisma', 'migrations');

// The table exactly as Prisma Migrate creates it on SQLite, so `prisma migrate deploy` agrees with us.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies the migrations that are not yet recorded, each in its own transaction, and records
 * them in `_prisma_migrations` as Prisma does. Safe to run from several processes at once:
 * the write lock is taken before the history is read.
 */
export function migrate(db: Database.Database, migrations = readMigrations()): string[] {
  // an up-to-date database is only read: no write lock to wait for while another process holds it
  if (!hasMigrationsTable(db)) db.exec(CREATE_MIGRATIONS_TABLE);
  const pending = migrations.filter((migration) => !isApplied(db, migration));
  const applied: string[] = [];
  for (const migration of pending) {
    const ran = db.transaction(() => applyOne(db, migration)).immediate();
    if (ran) applied.push(migration.name);
  }
  return applied;
}

function hasMigrationsTable(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`).get() !== undefined;
}

/** True when the migration is recorded as applied, unchanged; anything else is decided under the write lock. */
function isApplied(db: Database.Database, migration: Migration): boolean {
  return recordedAsApplied(historyOf(db, migration), migration);
}

function historyOf(db: Database.Database, migration: Migration): AppliedRow[] {
  return db
    .prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE migration_name = ?')
    .all(migration.name) as AppliedRow[];
}

/** A quick look, without the lock: true when the history records the migration applied, unchanged. */
function recordedAsApplied(rows: AppliedRow[], migration: Migration): boolean {
  const live = rows.filter((row) => row.rolled_back_at === null);
  return live.length === 1 && live[0]!.finished_at !== null && live[0]!.checksum === migration.checksum;
}

/**
 * What the history (read under the lock) says of a migration: true when it still has to run, false
 * when it ran; throws when it failed earlier or was edited since it ran, as Prisma Migrate refuses to.
 */
export function mustApply(rows: AppliedRow[], migration: Migration): boolean {
  const live = rows.filter((row) => row.rolled_back_at === null);
  if (live.some((row) => row.finished_at === null)) {
    throw new Error(`migration ${migration.name} failed earlier and is not marked rolled back; resolve it before starting`);
  }
  const done = live.find((row) => row.finished_at !== null);
  if (!done) return true;
  if (done.checksum !== migration.checksum) {
    throw new Error(`migration ${migration.name} was changed after it was applied (checksum mismatch)`);
  }
  return false;
}

function applyOne(db: Database.Database, migration: Migration): boolean {
  if (!mustApply(historyOf(db, migration), migration)) return false;
  const startedAt = prismaTimestamp();
  db.exec(migration.sql);
  db.prepare(
    `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
  ).run(randomUUID(), migration.checksum, prismaTimestamp(), migration.name, startedAt);
  return true;
}

/** The timestamp text Prisma Migrate writes on SQLite, e.g. 2026-01-31T12:00:00.123+00:00. */
function prismaTimestamp(): string {
  return new Date().toISOString().replace('Z', '+00:00');
}
