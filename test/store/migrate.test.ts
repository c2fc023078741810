import test from 'ava';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import { diff, migrationsTarget, openSchemaEngine, pendingSchemaChanges, schemaFiles } from '../../scripts/schema-engine.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/store/migrate.ts';
import { openSqliteFile } from '../../src/store/sqlite-file.ts';
import { tempDir } from '../helpers/instance.ts';

// The wasm engine reports panics through this global (the Prisma CLI defines it); without it a
// panic surfaces as an unrelated TypeError.
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message: (message: string) => console.error(`schema engine panic: ${message}`),
};

const dir = tempDir();
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** A new SQLite file for one test: tests in this file run concurrently. */
const newFile = () => join(dir, `db-${++fileCount}.sqlite`);

const NO_FILTER = { externalTables: [], externalEnums: [] };

const REPO_MIGRATIONS = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(MIGRATIONS_DIR, e.name, 'migration.sql')))
  .map((e) => e.name)
  .sort();

const MODEL_TABLES = [...readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8').matchAll(/@@map\("([a-z_]+)"\)/g)].map((m) => m[1]!);

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: string | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: string | null;
  started_at: string;
  applied_steps_count: number;
}

// The live database the schema engine inspects. Everything read from it with better-sqlite3 is read
// before the engine opens it: the engine keeps a lock on the file for the rest of the process.
const live = newFile();
let liveApplied: string[] = [];
let liveAppliedAgain: string[] = [];
let liveRows: MigrationRow[] = [];
let liveJournalMode: unknown;
let liveTables: string[] = [];
let engine: SchemaEngine;

test.before(async () => {
  const db = openSqliteFile(live);
  liveApplied = migrate(db);
  liveAppliedAgain = migrate(db);
  db.close();
  const plain = new Database(live, { readonly: true });
  liveRows = plain.prepare('SELECT * FROM "_prisma_migrations" ORDER BY migration_name').all() as MigrationRow[];
  liveJournalMode = plain.pragma('journal_mode', { simple: true });
  liveTables = (plain.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  plain.close();
  // One engine per process: scripts/schema-engine.ts cannot open a second one.
  engine = await openSchemaEngine(live);
});

test('the repository has migrations and a migration_lock.toml for sqlite', (t) => {
  t.true(REPO_MIGRATIONS.length > 0);
  t.regex(readFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8'), /provider\s*=\s*"sqlite"/);
  t.deepEqual(readMigrations().map((m) => m.name), REPO_MIGRATIONS);
});

test('a fresh database gets every migration, in order', (t) => {
  t.deepEqual(liveApplied, REPO_MIGRATIONS);
  t.deepEqual(liveTables, [...MODEL_TABLES, '_prisma_migrations'].sort());
});

test('running migrate again applies nothing', (t) => {
  t.deepEqual(liveAppliedAgain, []);
  t.is(liveRows.length, REPO_MIGRATIONS.length);
});

test('_prisma_migrations records the sha256 of each migration.sql and when it finished', (t) => {
  for (const [i, name] of REPO_MIGRATIONS.entries()) {
    const row = liveRows[i]!;
    t.is(row.migration_name, name);
    t.is(row.checksum, createHash('sha256').update(readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex'));
    t.regex(row.checksum, /^[0-9a-f]{64}$/);
    t.truthy(row.finished_at);
    t.false(Number.isNaN(Date.parse(row.finished_at!)), row.finished_at!);
    t.truthy(row.started_at);
    t.true(Date.parse(row.started_at) <= Date.parse(row.finished_at!));
    t.is(row.rolled_back_at, null);
    t.is(row.logs, null);
    t.is(Number(row.applied_steps_count), 1);
    t.regex(row.id, /^[0-9a-f-]{36}$/);
  }
});

test('the database file is in WAL mode, which persists for every later connection', (t) => {
  t.is(liveJournalMode, 'wal');
});

test.serial('the migrated database matches prisma/schema.prisma: Prisma finds nothing to change', async (t) => {
  const sql = await diff(engine, { tag: 'schemaDatasource', files: schemaFiles(), configDir: dir }, { tag: 'schemaDatamodel', files: schemaFiles() });
  t.is(sql, '');
});

test.serial('the diff above really reads the live database: against an empty schema it drops every table', async (t) => {
  const sql = await diff(engine, { tag: 'schemaDatasource', files: schemaFiles(), configDir: dir }, { tag: 'empty' });
  for (const table of MODEL_TABLES) t.true(sql.includes(`DROP TABLE "${table}"`), table);
});

test.serial('Prisma Migrate sees a clean history: nothing failed, edited or pending', async (t) => {
  const result = await engine.diagnoseMigrationHistory({ migrationsList: migrationsTarget() as never, optInToShadowDatabase: false, filters: NO_FILTER });
  t.true(result.hasMigrationsTable);
  t.deepEqual(result.failedMigrationNames, []);
  t.deepEqual(result.editedMigrationNames, []);
  t.is(result.history, null);
});

test.serial('the migrations build exactly prisma/schema.prisma, so migration:new has nothing to write', async (t) => {
  t.is(await pendingSchemaChanges(), '');
});

/** A migrations directory of our own, in Prisma's layout. */
function migrationsDir(migrations: Record<string, string>): string {
  const root = join(dir, `migrations-${++fileCount}`);
  mkdirSync(root);
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'migration.sql'), sql);
  }
  return root;
}

const tablesOf = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

test('readMigrations sorts by directory name, skips directories without migration.sql and hashes the SQL', (t) => {
  const root = migrationsDir({ '20260102000000_b': 'CREATE TABLE b (x);\n', '20260101000000_a': 'CREATE TABLE a (x);\n' });
  mkdirSync(join(root, '20260103000000_empty'));
  writeFileSync(join(root, 'migration_lock.toml'), 'provider = "sqlite"\n');
  const migrations = readMigrations(root);
  t.deepEqual(migrations.map((m) => m.name), ['20260101000000_a', '20260102000000_b']);
  t.is(migrations[0]!.checksum, createHash('sha256').update('CREATE TABLE a (x);\n').digest('hex'));
});

test('a migration added later is applied on its own', (t) => {
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x);' });
  const db = openSqliteFile(newFile());
  try {
    t.deepEqual(migrate(db, readMigrations(root)), ['0001_a']);
    mkdirSync(join(root, '0002_b'));
    writeFileSync(join(root, '0002_b', 'migration.sql'), 'CREATE TABLE b (y);');
    t.deepEqual(migrate(db, readMigrations(root)), ['0002_b']);
    t.deepEqual(tablesOf(db), ['a', 'b']);
  } finally {
    db.close();
  }
});

test('a migration changed after it was applied makes migrate throw a checksum error', (t) => {
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x);', '0002_b': 'CREATE TABLE b (y);' });
  const db = openSqliteFile(newFile());
  try {
    migrate(db, readMigrations(root));
    writeFileSync(join(root, '0001_a', 'migration.sql'), 'CREATE TABLE a (x, z);');
    mkdirSync(join(root, '0003_c'));
    writeFileSync(join(root, '0003_c', 'migration.sql'), 'CREATE TABLE c (w);');
    t.throws(() => migrate(db, readMigrations(root)), { message: /migration 0001_a was changed after it was applied \(checksum mismatch\)/ });
    // nothing after the edited migration ran
    t.deepEqual(tablesOf(db), ['a', 'b']);
  } finally {
    db.close();
  }
});

test('even a whitespace change counts as an edit', (t) => {
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x);' });
  const db = openSqliteFile(newFile());
  try {
    migrate(db, readMigrations(root));
    writeFileSync(join(root, '0001_a', 'migration.sql'), 'CREATE TABLE a (x);\n');
    t.throws(() => migrate(db, readMigrations(root)), { message: /checksum mismatch/ });
  } finally {
    db.close();
  }
});

test('a migration that fails is rolled back as a whole and not recorded', (t) => {
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x);', '0002_bad': 'CREATE TABLE b (y);\nINSERT INTO no_such_table VALUES (1);' });
  const db = openSqliteFile(newFile());
  try {
    t.throws(() => migrate(db, readMigrations(root)), { any: true, message: /no such table: no_such_table/ });
    t.deepEqual(tablesOf(db), ['a']);
    t.deepEqual(db.prepare('SELECT migration_name FROM "_prisma_migrations"').pluck().all(), ['0001_a']);
    writeFileSync(join(root, '0002_bad', 'migration.sql'), 'CREATE TABLE b (y);');
    t.deepEqual(migrate(db, readMigrations(root)), ['0002_bad']);
  } finally {
    db.close();
  }
});

test('a migration Prisma recorded as failed stops migrate until it is resolved', (t) => {
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x);' });
  const [migration] = readMigrations(root);
  const db = openSqliteFile(newFile());
  try {
    migrate(db, []);
    db.prepare('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, applied_steps_count) VALUES (?, ?, ?, ?, 0)').run('failed-1', migration!.checksum, '0001_a', 'boom');
    t.throws(() => migrate(db, readMigrations(root)), { message: /migration 0001_a failed earlier and is not marked rolled back/ });
    // `prisma migrate resolve --rolled-back` marks it; then it is applied again
    db.prepare('UPDATE "_prisma_migrations" SET rolled_back_at = ? WHERE id = ?').run(new Date().toISOString(), 'failed-1');
    t.deepEqual(migrate(db, readMigrations(root)), ['0001_a']);
    t.deepEqual(tablesOf(db), ['a']);
  } finally {
    db.close();
  }
});

test('a second connection to a migrated file finds nothing to do', (t) => {
  const file = newFile();
  const first = openSqliteFile(file);
  const second = openSqliteFile(file);
  try {
    t.deepEqual(migrate(first), REPO_MIGRATIONS);
    t.deepEqual(migrate(second), []);
  } finally {
    first.close();
    second.close();
  }
});

test('the repository migrations can be replayed from a copy of the directory', (t) => {
  const copy = join(dir, 'copy-of-migrations');
  cpSync(MIGRATIONS_DIR, copy, { recursive: true });
  t.deepEqual(
    readMigrations(copy).map((m) => [m.name, m.checksum]),
    readMigrations().map((m) => [m.name, m.checksum]),
  );
});
