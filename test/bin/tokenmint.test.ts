import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/process.ts';
import { tempDir, TEST_ISSUER } from '../helpers/instance.ts';

// The package's executable as an operator runs it: a child process, from another working directory.
const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'tokenmint.js');
const dir = tempDir();
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const env = (database: string) => ({
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  HOME: process.env.HOME ?? dir,
  DATABASE_URL: `file:${join(dir, database)}`,
  ISSUER_URL: TEST_ISSUER,
  LOG_LEVEL: 'silent',
});

async function tokenmint(file: string, database: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, argv, { cwd: dir, env: env(database) });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('bin/tokenmint.js is an executable file', (t) => {
  t.is(statSync(BIN).mode & 0o755, 0o755);
});

test('node bin/tokenmint.js prints nothing but JSON on stdout with --json, from another working directory', async (t) => {
  const created = await tokenmint(process.execPath, 'direct.db', BIN, '--init', 'app', 'create', 'billing', '--secret', '--audiences', 'https://api.example', '--json');
  t.is(created.code, 0, created.stderr);
  t.is(created.stderr, '');
  t.regex(JSON.parse(created.stdout).client_secret, /^tmcs_/);
  const listed = await tokenmint(process.execPath, 'direct.db', BIN, 'app', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual(JSON.parse(listed.stdout).map((a: { client_id: string }) => a.client_id), ['billing']);
});

test('tokenmint run through a node_modules/.bin symlink finds the CLI beside its real file', async (t) => {
  const bin = join(dir, 'elsewhere', 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(BIN, join(bin, 'tokenmint'));
  const listed = await tokenmint(join(bin, 'tokenmint'), 'linked.db', '--init', 'app', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  t.deepEqual(JSON.parse(listed.stdout), []);
});

test('a failure exits 1 with one line on stderr and nothing on stdout', async (t) => {
  const missing = await tokenmint(process.execPath, 'missing.db', BIN, 'app', 'list', '--json');
  t.is(missing.code, 1);
  t.is(missing.stdout, '');
  t.regex(missing.stderr, /^error: no database at [^\n]+\n$/);
  await tokenmint(process.execPath, 'failing.db', BIN, '--init', 'app', 'list');
  const unknown = await tokenmint(process.execPath, 'failing.db', BIN, 'app', 'show', 'nobody', '--json');
  t.deepEqual(unknown, { code: 1, stdout: '', stderr: 'error: no application "nobody"\n' });
});
