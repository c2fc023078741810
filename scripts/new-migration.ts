// npm run migration:new -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the existing
// migrations to prisma/schema.prisma, as `prisma migrate dev --create-only` would.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../src/store/migrate.ts';
import { diff, migrationsTarget, openSchemaEngine, schemaFiles } from './schema-engine.ts';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run migration:new -- <name in snake_case>');
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'tokenmint-migration-'));
try {
  const engine = await openSchemaEngine(join(scratch, 'shadow.db'));
  const sql = await diff(engine, migrationsTarget(), { tag: 'schemaDatamodel', files: schemaFiles() });
  if (!sql) {
    console.log('prisma/schema.prisma matches the migrations: nothing to write');
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'migration.sql'), `${sql}\n`);
    console.log(`wrote ${dir}/migration.sql`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
