// npm run migration:new -- <name>
// Writes, for each provider, <migrations>/<timestamp>_<name>/migration.sql: the SQL that takes that
// provider's existing migrations to its schema (prisma/schema.prisma, prisma/postgresql/schema.prisma),
// as `prisma migrate dev --create-only` would. The PostgreSQL half builds a scratch database on the
// server at TEST_POSTGRES_URL (by default the local one). Data a migration must also move (a
// backfill, a seeded row) is added to both files by hand.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../src/store/migrate.ts';
import { POSTGRES_MIGRATIONS_DIR } from '../src/store/migrate-postgres.ts';
import { pendingPostgresSchemaChanges, pendingSchemaChanges } from './schema-engine.ts';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run migration:new -- <name in snake_case>');
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const providers = [
  { schema: 'prisma/schema.prisma', dir: MIGRATIONS_DIR, pending: pendingSchemaChanges },
  { schema: 'prisma/postgresql/schema.prisma', dir: POSTGRES_MIGRATIONS_DIR, pending: pendingPostgresSchemaChanges },
];
for (const { schema, dir: root, pending } of providers) {
  const sql = await pending();
  if (!sql) {
    console.log(`${schema} matches its migrations: nothing to write`);
    continue;
  }
  const dir = join(root, `${stamp}_${name}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'migration.sql'), `${sql}\n`);
  console.log(`wrote ${dir}/migration.sql`);
}
