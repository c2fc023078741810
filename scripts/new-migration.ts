// npm run migration:new -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the existing
// migrations to prisma/schema.prisma, as `prisma migrate dev --create-only` would.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../src/store/migrate.ts';
import { pendingSchemaChanges } from './schema-engine.ts';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run migration:new -- <name in snake_case>');
  process.exit(1);
}
const sql = await pendingSchemaChanges();
if (!sql) {
  console.log('prisma/schema.prisma matches the migrations: nothing to write');
} else {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'migration.sql'), `${sql}\n`);
  console.log(`wrote ${dir}/migration.sql`);
}
