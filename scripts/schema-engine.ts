// Prisma's own schema engine, compiled to WebAssembly and driven through the better-sqlite3
// driver adapter: it runs offline, so migrations can be written and checked here without the
// native engine that `prisma migrate` downloads.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffTarget, SchemaEngine } from '@prisma/schema-engine-wasm';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../src/store/migrate.ts';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../src/store/migrate-postgres.ts';
import { quoteIdentifier } from '../src/store/postgres-url.ts';
import { openSqliteFile } from '../src/store/sqlite-file.ts';

export type Provider = 'sqlite' | 'postgresql';

export const SCHEMA_FILE = new URL('../prisma/schema.prisma', import.meta.url).pathname;
export const POSTGRES_SCHEMA_FILE = new URL('../prisma/postgresql/schema.prisma', import.meta.url).pathname;

const SCHEMA_FILES: Record<Provider, string> = { sqlite: SCHEMA_FILE, postgresql: POSTGRES_SCHEMA_FILE };
const MIGRATION_DIRS: Record<Provider, string> = { sqlite: MIGRATIONS_DIR, postgresql: POSTGRES_MIGRATIONS_DIR };

/** The server scratch databases are made on (migration:new for PostgreSQL, the schema tests). */
export const SCRATCH_POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';

// @types/node does not declare the WebAssembly global.
const wasm = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Buffer, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }> };
}).WebAssembly;

let engineModule: Promise<typeof import('@prisma/schema-engine-wasm')> | undefined;

/** The WebAssembly module is instantiated once per process; every engine shares it. */
function loadEngineModule(): Promise<typeof import('@prisma/schema-engine-wasm')> {
  engineModule ??= instantiateEngineModule();
  return engineModule;
}

async function instantiateEngineModule(): Promise<typeof import('@prisma/schema-engine-wasm')> {
  const bindingsUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const dir = dirname(fileURLToPath(bindingsUrl));
  const bindings = await import(bindingsUrl);
  const { instance } = await wasm.instantiate(readFileSync(join(dir, 'schema_engine_bg.wasm')), {
    './schema_engine_bg.js': bindings,
  });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bindings;
}

export function schemaFiles(provider: Provider = 'sqlite') {
  return [{ path: 'schema.prisma', content: readFileSync(SCHEMA_FILES[provider], 'utf8') }];
}

export async function openSchemaEngine(databaseFile: string): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadEngineModule();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaBetterSqlite3({ url: `file:${databaseFile}` }));
  const datamodels = schemaFiles().map((f) => [f.path, f.content] as [string, string]);
  return SchemaEngine.new({ datamodels }, () => {}, adapter);
}

// The engine reads PostgreSQL's catalogs, some of whose columns have the one-byte type "char" (oid
// 18), which the pg driver adapter does not map; the driver hands its values over as text anyway.
type Result = { fields?: { dataTypeID: number }[] } | undefined;
const charAsText = (result: Result) => {
  for (const field of result?.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
  return result;
};
class CatalogClient extends pg.Client {
  override query(...args: unknown[]): never {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, result: Result) => callback(error, charAsText(result));
      return (super.query as (...a: unknown[]) => never)(...args);
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    return (result instanceof Promise ? result.then(charAsText) : result) as never;
  }
}

/** An engine for a PostgreSQL database, through the pg driver adapter. */
export async function openPostgresSchemaEngine(connectionString: string): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadEngineModule();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(new pg.Pool({ connectionString, Client: CatalogClient })));
  const datamodels = schemaFiles('postgresql').map((f) => [f.path, f.content] as [string, string]);
  return SchemaEngine.new({ datamodels }, () => {}, adapter);
}

export function migrationsTarget(provider: Provider = 'sqlite'): DiffTarget {
  const dir = MIGRATION_DIRS[provider];
  return {
    tag: 'migrations',
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: readFileSync(join(dir, 'migration_lock.toml'), 'utf8') },
    migrationDirectories: readMigrations(dir).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
    shadowDbInitScript: '',
  } as DiffTarget;
}

/** The SQL that takes `from` to `to`; empty when they agree. */
export async function diff(engine: SchemaEngine, from: DiffTarget, to: DiffTarget): Promise<string> {
  const result = await engine.diff({ from, to, script: true, exitCode: null, filters: { externalTables: [], externalEnums: [] } });
  return (result.stdout ?? '').replace(/^-- This is an empty migration\.\s*$/m, '').trim();
}

/**
 * The SQL that takes a database built by our migrator from prisma/migrations to
 * prisma/schema.prisma; empty when the migrations are complete. (Prisma's own shadow-database
 * replay cannot run here: the driver adapter executes a migration file as one statement.)
 */
export async function pendingSchemaChanges(): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'tokenmint-schema-'));
  try {
    const file = join(scratch, 'migrated.db');
    const db = openSqliteFile(file);
    try {
      migrate(db);
    } finally {
      db.close();
    }
    const engine = await openSchemaEngine(file);
    return await diff(engine, { tag: 'schemaDatasource', files: schemaFiles(), configDir: scratch }, { tag: 'schemaDatamodel', files: schemaFiles() });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs `work` with the URL of a new, empty PostgreSQL database on the scratch server, dropped afterwards. */
export async function withScratchPostgresDatabase<T>(work: (url: string) => Promise<T>, serverUrl = SCRATCH_POSTGRES_URL): Promise<T> {
  const name = `tokenmint_scratch_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      return await work(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

/**
 * The SQL that takes a PostgreSQL database built by our migrator from prisma/postgresql/migrations
 * to prisma/postgresql/schema.prisma; empty when those migrations are complete. Needs a PostgreSQL
 * server (TEST_POSTGRES_URL, by default the local one) to build the scratch database on.
 */
export async function pendingPostgresSchemaChanges(): Promise<string> {
  return withScratchPostgresDatabase(async (url) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await migratePostgres(client, undefined);
    } finally {
      await client.end();
    }
    const engine = await openPostgresSchemaEngine(url);
    const files = schemaFiles('postgresql');
    return diff(engine, { tag: 'schemaDatasource', files, configDir: tmpdir() }, { tag: 'schemaDatamodel', files });
  });
}
