// Prisma's own schema engine, compiled to WebAssembly and driven through the better-sqlite3
// driver adapter: it runs offline, so migrations can be written and checked here without the
// native engine that `prisma migrate` downloads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffTarget, SchemaEngine } from '@prisma/schema-engine-wasm';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../src/store/migrate.ts';
import { openSqliteFile } from '../src/store/sqlite-file.ts';

export const SCHEMA_FILE = new URL('../prisma/schema.prisma', import.meta.url).pathname;

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

export function schemaFiles() {
  return [{ path: 'schema.prisma', content: readFileSync(SCHEMA_FILE, 'utf8') }];
}

export async function openSchemaEngine(databaseFile: string): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadEngineModule();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaBetterSqlite3({ url: `file:${databaseFile}` }));
  const datamodels = schemaFiles().map((f) => [f.path, f.content] as [string, string]);
  return SchemaEngine.new({ datamodels }, () => {}, adapter);
}

export function migrationsTarget(): DiffTarget {
  return {
    tag: 'migrations',
    baseDir: MIGRATIONS_DIR,
    lockfile: { path: 'migration_lock.toml', content: readFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8') },
    migrationDirectories: readMigrations().map((m) => ({
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
