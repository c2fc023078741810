// prisma/postgresql/schema.prisma is derived from prisma/schema.prisma, the one place the models are
// defined: only the datasource's provider and the generated client's directory differ. Prisma needs a
// schema file per provider (its generated client and its migrations are per provider), so this file
// is written by `npm run generate` and a test fails when the committed copy has drifted.
import { readFileSync, writeFileSync } from 'node:fs';

export const SQLITE_SCHEMA = new URL('../prisma/schema.prisma', import.meta.url);
export const POSTGRES_SCHEMA = new URL('../prisma/postgresql/schema.prisma', import.meta.url);

const HEADER = `// GENERATED from ../schema.prisma by \`npm run generate\`: edit that file, not this one.
// The same models for PostgreSQL; its migrations are in ./migrations.
`;

/** The PostgreSQL schema for the text of the SQLite one. */
export function postgresSchema(sqlite) {
  const provider = /(datasource db \{[^}]*provider\s*=\s*)"sqlite"/;
  const output = /(generator client \{[^}]*output\s*=\s*)"\.\.\/src\/store\/generated"/;
  if (!provider.test(sqlite) || !output.test(sqlite)) {
    throw new Error('prisma/schema.prisma: expected provider = "sqlite" and output = "../src/store/generated"');
  }
  return HEADER + sqlite.replace(provider, '$1"postgresql"').replace(output, '$1"../../src/store/generated-postgresql"');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  writeFileSync(POSTGRES_SCHEMA, postgresSchema(readFileSync(SQLITE_SCHEMA, 'utf8')));
}
