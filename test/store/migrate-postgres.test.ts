import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import type pg from 'pg';
import { diff, migrationsTarget, openPostgresSchemaEngine, pendingPostgresSchemaChanges, schemaFiles } from '../../scripts/schema-engine.ts';
import { readMigrations } from '../../src/store/migrate.ts';
import { isPostgresMigrated, LockTimeoutError, MIGRATION_LOCK, migratePostgres, POSTGRES_MIGRATIONS_DIR, withAdvisoryLock } from '../../src/store/migrate-postgres.ts';
import { clientConfig, postgresTarget } from '../../src/store/postgres-url.ts';
import { tempDir } from '../helpers/instance.ts';
import { connect, createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.ts';
import pgModule from 'pg';

(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message: (message: string) => console.error(`schema engine panic: ${message}`),
};

const available = await postgresAvailable();
const pgTest = available ? test : test.skip;
const pgSerial = available ? test.serial : test.skip;
const dir = tempDir();
const databases: TestDatabase[] = [];
test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all(databases.map((d) => d.drop()));
});

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('migrate');
  databases.push(database);
  return database;
}

const REPO_MIGRATIONS = readMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.name);
const MODEL_TABLES = [...readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8').matchAll(/@@map\("([a-z_]+)"\)/g)].map((m) => m[1]!);

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

let live: TestDatabase;
let liveApplied: string[] = [];
let liveAppliedAgain: string[] = [];
let liveRows: MigrationRow[] = [];
let liveTables: string[] = [];
let liveColumns: { column_name: string; data_type: string; character_maximum_length: number | null; is_nullable: string }[] = [];
let engine: SchemaEngine;

test.before(async () => {
  if (!available) return;
  live = await freshDatabase();
  const client = await connect(live.url);
  try {
    liveApplied = await withAdvisoryLock(client, MIGRATION_LOCK, () => migratePostgres(client, undefined));
    liveAppliedAgain = await withAdvisoryLock(client, MIGRATION_LOCK, () => migratePostgres(client, undefined));
    liveRows = (await client.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name')).rows;
    liveTables = (await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)).rows.map((r) => r.table_name);
    liveColumns = (
      await client.query(
        `SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      )
    ).rows;
  } finally {
    await client.end();
  }
  engine = await openPostgresSchemaEngine(live.url);
});

test('the repository has PostgreSQL migrations and a migration_lock.toml for postgresql', (t) => {
  t.true(REPO_MIGRATIONS.length > 0);
  t.regex(readFileSync(join(POSTGRES_MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8'), /provider\s*=\s*"postgresql"/);
});

pgTest('a fresh database gets every migration, in order, and the state_version row', async (t) => {
  t.deepEqual(liveApplied, REPO_MIGRATIONS);
  t.deepEqual(liveTables, [...MODEL_TABLES, '_prisma_migrations'].sort());
  const client = await connect(live.url);
  try {
    t.deepEqual((await client.query('SELECT id, version FROM state_version')).rows, [{ id: 1, version: 0 }]);
    t.true(await isPostgresMigrated(client));
  } finally {
    await client.end();
  }
});

pgTest('running migrate again applies nothing', (t) => {
  t.deepEqual(liveAppliedAgain, []);
  t.is(liveRows.length, REPO_MIGRATIONS.length);
});

pgTest('_prisma_migrations is the table Prisma Migrate makes on PostgreSQL and records each migration as Prisma does', (t) => {
  t.deepEqual(
    liveColumns.map((c) => [c.column_name, c.data_type, c.character_maximum_length, c.is_nullable]),
    [
      ['id', 'character varying', 36, 'NO'],
      ['checksum', 'character varying', 64, 'NO'],
      ['finished_at', 'timestamp with time zone', null, 'YES'],
      ['migration_name', 'character varying', 255, 'NO'],
      ['logs', 'text', null, 'YES'],
      ['rolled_back_at', 'timestamp with time zone', null, 'YES'],
      ['started_at', 'timestamp with time zone', null, 'NO'],
      ['applied_steps_count', 'integer', null, 'NO'],
    ],
  );
  for (const [i, name] of REPO_MIGRATIONS.entries()) {
    const row = liveRows[i]!;
    t.is(row.migration_name, name);
    t.is(row.checksum, createHash('sha256').update(readFileSync(join(POSTGRES_MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex'));
    t.true(row.finished_at instanceof Date);
    t.true(row.started_at.getTime() <= row.finished_at!.getTime());
    t.is(row.rolled_back_at, null);
    t.is(row.logs, null);
    t.is(row.applied_steps_count, 1);
    t.regex(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
});

pgSerial('the migrated database matches prisma/postgresql/schema.prisma: Prisma finds nothing to change', async (t) => {
  const files = schemaFiles('postgresql');
  t.is(await diff(engine, { tag: 'schemaDatasource', files, configDir: dir }, { tag: 'schemaDatamodel', files }), '');
});

pgSerial('the diff above really reads the live database: against an empty schema it drops every table', async (t) => {
  const sql = await diff(engine, { tag: 'schemaDatasource', files: schemaFiles('postgresql'), configDir: dir }, { tag: 'empty' });
  for (const table of MODEL_TABLES) t.true(sql.includes(`DROP TABLE "public"."${table}"`), table);
});

pgSerial('Prisma Migrate sees a clean history: nothing failed, edited or pending', async (t) => {
  const result = await engine.diagnoseMigrationHistory({
    migrationsList: migrationsTarget('postgresql') as never,
    optInToShadowDatabase: false,
    filters: { externalTables: [], externalEnums: [] },
  });
  t.true(result.hasMigrationsTable);
  t.deepEqual(result.failedMigrationNames, []);
  t.deepEqual(result.editedMigrationNames, []);
  t.is(result.history, null);
});

pgSerial('the PostgreSQL migrations build exactly the schema, so migration:new has nothing to write for it', async (t) => {
  t.is(await pendingPostgresSchemaChanges(), '');
});

pgTest('nodes migrating one empty database at the same moment: one applies each migration, the others wait and apply nothing', async (t) => {
  const database = await freshDatabase();
  const clients = await Promise.all(Array.from({ length: 5 }, () => connect(database.url)));
  try {
    const results = await Promise.all(clients.map((client) => withAdvisoryLock(client, MIGRATION_LOCK, () => migratePostgres(client, undefined))));
    t.deepEqual(results.flat().sort(), [...REPO_MIGRATIONS].sort());
    t.is(results.filter((applied) => applied.length > 0).length, 1);
    const { rows } = await clients[0]!.query('SELECT migration_name FROM "_prisma_migrations"');
    t.is(rows.length, REPO_MIGRATIONS.length);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});

pgTest('the lock is the one prisma migrate deploy takes: while another session holds it, migrating waits, and gives up with a clear error', async (t) => {
  const database = await freshDatabase();
  const holder = await connect(database.url);
  const waiter = await connect(database.url);
  try {
    await holder.query('SELECT pg_advisory_lock(72707369)');
    let waited = false;
    const error = await t.throwsAsync(
      withAdvisoryLock(waiter, MIGRATION_LOCK, () => migratePostgres(waiter, undefined), 600, () => (waited = true)),
      { instanceOf: LockTimeoutError },
    );
    t.true(waited);
    t.regex(error!.message, /advisory lock 72707369/);
    t.false(await isPostgresMigrated(waiter));
    await holder.query('SELECT pg_advisory_unlock(72707369)');
    t.deepEqual(await withAdvisoryLock(waiter, MIGRATION_LOCK, () => migratePostgres(waiter, undefined), 5000), REPO_MIGRATIONS);
  } finally {
    await holder.end();
    await waiter.end();
  }
});

/** A migrations directory of our own, in Prisma's layout. */
let dirCount = 0;
function migrationsDir(migrations: Record<string, string>): string {
  const root = join(dir, `migrations-${++dirCount}`);
  mkdirSync(root);
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'migration.sql'), sql);
  }
  return root;
}

async function tablesOf(client: pg.ClientBase, schema = 'public'): Promise<string[]> {
  const { rows } = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> '_prisma_migrations' ORDER BY table_name`,
    [schema],
  );
  return rows.map((r) => r.table_name);
}

pgTest('a migration that fails is rolled back as a whole and not recorded; fixed, it applies', async (t) => {
  const database = await freshDatabase();
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x INT);', '0002_bad': 'CREATE TABLE b (y INT);\nINSERT INTO no_such_table VALUES (1);' });
  const client = await connect(database.url);
  try {
    await t.throwsAsync(migratePostgres(client, undefined, readMigrations(root)), { message: /relation "no_such_table" does not exist/ });
    t.deepEqual(await tablesOf(client), ['a']);
    t.deepEqual((await client.query('SELECT migration_name FROM "_prisma_migrations"')).rows, [{ migration_name: '0001_a' }]);
    writeFileSync(join(root, '0002_bad', 'migration.sql'), 'CREATE TABLE b (y INT);');
    t.deepEqual(await migratePostgres(client, undefined, readMigrations(root)), ['0002_bad']);
    t.deepEqual(await tablesOf(client), ['a', 'b']);
  } finally {
    await client.end();
  }
});

pgTest('a migration changed after it was applied stops migrating with a checksum error', async (t) => {
  const database = await freshDatabase();
  const root = migrationsDir({ '0001_a': 'CREATE TABLE a (x INT);' });
  const client = await connect(database.url);
  try {
    await migratePostgres(client, undefined, readMigrations(root));
    writeFileSync(join(root, '0001_a', 'migration.sql'), 'CREATE TABLE a (x INT, z INT);');
    mkdirSync(join(root, '0002_b'));
    writeFileSync(join(root, '0002_b', 'migration.sql'), 'CREATE TABLE b (y INT);');
    await t.throwsAsync(migratePostgres(client, undefined, readMigrations(root)), { message: /migration 0001_a was changed after it was applied \(checksum mismatch\)/ });
    t.deepEqual(await tablesOf(client), ['a']);
    t.false(await isPostgresMigrated(client, readMigrations(root)));
  } finally {
    await client.end();
  }
});

pgTest('with ?schema= the tables and the history go into that schema, created when missing', async (t) => {
  const database = await freshDatabase();
  const target = postgresTarget(`${database.url}?schema=tokenmint`);
  t.is(target.schema, 'tokenmint');
  t.false(target.connectionString.includes('schema='));
  const client = new pgModule.Client(clientConfig(target));
  await client.connect();
  try {
    t.deepEqual(await migratePostgres(client, target.schema), REPO_MIGRATIONS);
    t.deepEqual(await tablesOf(client, 'tokenmint'), [...MODEL_TABLES].sort());
    t.deepEqual(await tablesOf(client, 'public'), []);
    t.true(await isPostgresMigrated(client));
  } finally {
    await client.end();
  }
});
