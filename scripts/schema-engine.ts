// Prisma's own schema engine, compiled to WebAssembly and driven through the better-sqlite3
// driver adapter: it runs offline, so migrations can be written and checked here without the
// native engine that `prisma migrate` downloads.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffTarget, SchemaEngine } from '@prisma/schema-engine-wasm';
import { MIGRATIONS_DIR, readMigrations } from '../src/store/migrate.ts';

export const SCHEMA_FILE = new URL('../prisma/schema.prisma', import.meta.url).pathname;

// @types/node does not declare the WebAssembly global.
const wasm = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Buffer, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }> };
}).WebAssembly;

async function loadEngineModule(): Promise<typeof import('@prisma/schema-engine-wasm')> {
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
