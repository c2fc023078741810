import test from 'ava';
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { capturingLogger, runAdmin, startInstance, tempDir, testConfig, untilPropagated, type Instance } from '../helpers/instance.ts';

interface Readiness {
  checks: Record<string, boolean>;
  problems?: string[];
}

async function readiness(instance: Instance): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${instance.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

test('a database file removed under the running server makes it not ready, with the reason in /readyz and the log; putting it back makes it ready', async (t) => {
  const { log, text } = capturingLogger();
  const instance = await startInstance({}, { log });
  try {
    const file = instance.config.databaseFile;
    renameSync(file, `${file}.moved`);
    const gone = await untilPropagated(() => readiness(instance), (r) => r.status === 503, 3000);
    t.is(gone.status, 503);
    t.false(gone.body.checks.database_file);
    t.regex(gone.body.problems!.join('\n'), /was removed while the server runs; restore it and restart tokenmint/);
    t.regex(text(), /was removed while the server runs/);
    // and an admin command does not quietly create another database there
    const run = await instance.admin('app', 'list');
    t.is(run.code, 1);
    t.regex(run.stderr, new RegExp(`^error: no database at ${file}`));
    t.false(existsSync(file));

    renameSync(`${file}.moved`, file);
    t.is((await untilPropagated(() => readiness(instance), (r) => r.status === 200, 3000)).status, 200);
  } finally {
    await instance.close();
  }
});

test('a database file replaced under the running server (a restore with mv) makes it not ready until restarted', async (t) => {
  const instance = await startInstance();
  try {
    const file = instance.config.databaseFile;
    const copy = join(instance.dir, 'restored.db');
    await new Database(file, { readonly: true }).backup(copy);
    renameSync(copy, file);
    const replaced = await untilPropagated(() => readiness(instance), (r) => r.status === 503, 3000);
    t.is(replaced.status, 503);
    t.regex(replaced.body.problems!.join('\n'), /was replaced while the server runs .*restart tokenmint to use the new one/);
  } finally {
    await instance.close();
  }
});

test('the admin CLI never creates a database: without one it stops naming the path; --init creates it', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    const missing = await runAdmin(config, ['app', 'list']);
    t.is(missing.code, 1);
    t.is(missing.stderr, `error: no database at ${config.databaseFile}: the server's first start creates it (npm start), or pass --init to create an empty one there\n`);
    t.false(existsSync(config.databaseFile));
    const created = await runAdmin(config, ['--init', 'app', 'create', 'first', '--audiences', 'https://api.example', '--json']);
    t.is(created.code, 0, created.stderr);
    t.true(existsSync(config.databaseFile));
    t.is((await runAdmin(config, ['app', 'list', '--json'])).json<unknown[]>().length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
