import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BOTH_STORES } from '../../scripts/test-postgres.js';
import { ROOT } from '../helpers/process.ts';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts', 'test-postgres.js');
const NOWHERE = 'postgresql://postgres@127.0.0.1:1/nothing';

test('every file of the PostgreSQL pass exists and is a test file', (t) => {
  t.true(BOTH_STORES.length >= 20);
  for (const file of BOTH_STORES) {
    t.true(file.endsWith('.test.ts'), file);
    t.true(existsSync(join(ROOT, file)), file);
  }
});

test('without a reachable PostgreSQL server the pass is skipped, visibly, saying how to run it', async (t) => {
  const { stderr } = await run(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH, TEST_POSTGRES_URL: NOWHERE } });
  t.regex(stderr, /PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/nothing is unreachable/);
  t.regex(stderr, /SKIPPED/);
  t.regex(stderr, /TEST_POSTGRES_URL=postgresql:\/\/user@host:5432\/db npm test/);
});

test('under CI=true an unreachable PostgreSQL server fails the run instead', async (t) => {
  const error = await t.throwsAsync(run(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH, TEST_POSTGRES_URL: NOWHERE, CI: 'true' } }));
  t.is((error as { code?: number }).code, 1);
  t.regex((error as { stderr?: string }).stderr ?? '', /under CI=true the PostgreSQL half of the suite must run/);
});
