import test from 'ava';
import { readFileSync } from 'node:fs';
import { POSTGRES_SCHEMA, postgresSchema, SQLITE_SCHEMA } from '../../scripts/postgres-schema.js';

const sqlite = readFileSync(SQLITE_SCHEMA, 'utf8');
const postgres = readFileSync(POSTGRES_SCHEMA, 'utf8');

test('prisma/postgresql/schema.prisma is derived from prisma/schema.prisma, unedited (npm run generate rewrites it)', (t) => {
  t.is(postgres, postgresSchema(sqlite));
});

test('the two schemas differ only in the provider and where the client is generated', (t) => {
  const models = (text: string) => text.slice(text.indexOf('model '));
  t.is(models(postgres), models(sqlite));
  t.regex(postgres, /provider = "postgresql"/);
  t.regex(postgres, /output\s*= "\.\.\/\.\.\/src\/store\/generated-postgresql"/);
  t.notRegex(postgres, /"sqlite"/);
});

test('a schema without the expected provider or output is refused rather than half rewritten', (t) => {
  t.throws(() => postgresSchema(sqlite.replace('"sqlite"', '"mysql"')), { message: /expected provider = "sqlite"/ });
  t.throws(() => postgresSchema(sqlite.replace('../src/store/generated', '../elsewhere')), { message: /output/ });
});
