import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import module from 'node:module';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { SERVING_FLAGS } from '../../src/heap-settings.ts';
import { killGroup } from '../helpers/readme-shell.ts';
import { tempDir, TEST_ISSUER } from '../helpers/instance.ts';
import { freePort, ROOT, waitReady } from '../helpers/process.ts';

// Production runs the JavaScript that `npm run build` (scripts/build.js) puts in dist/. These tests
// work on a copy of the sources without dist/, so that building, rebuilding and serving from the
// build never touch the dist/ the rest of the suite uses.
const run = promisify(execFile);
const copy = tempDir();
const work = tempDir();
test.after.always(() => {
  rmSync(copy, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'scripts', 'prisma', 'bin']) cpSync(join(ROOT, name), join(copy, name), { recursive: true, verbatimSymlinks: true });
rmSync(join(copy, 'dist'), { recursive: true, force: true });
symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));

const env = {
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  HOME: work,
  npm_config_update_notifier: 'false',
  DATABASE_URL: `file:${join(work, 'tokenmint.db')}`,
  ISSUER_URL: TEST_ISSUER,
};

async function tokenmint(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(join(copy, 'bin', 'tokenmint.js'), argv, { cwd: work, env: { ...env, LOG_LEVEL: 'silent' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A source's modification time a minute ahead, as an edit after the last build leaves it (to the microsecond, as file systems keep it). */
function touchSource(path: string): void {
  const later = Date.now() / 1000 + 60.0005;
  utimesSync(join(copy, path), later, later);
}

test.serial('npm start builds dist/ when there is none, then serves from it, JSON log lines only on stdout', async (t) => {
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent'], { cwd: copy, env: { ...env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (error) => (stderr += `\n[npm start could not be started: ${error.message}]`));
  try {
    t.true(await waitReady(`http://127.0.0.1:${port}`, 120_000), stderr);
    t.regex(stderr, /building dist\/ from the sources/);
    t.true(existsSync(join(copy, 'dist', 'src', 'main.js')));
    t.true(existsSync(join(copy, 'dist', 'scripts', 'admin.js')));
    // Prisma's query compiler is a WebAssembly file of its own, not 4.4 MB of base64 in a chunk every process parses
    t.deepEqual(readFileSync(join(copy, 'dist', 'wasm', 'query_compiler_fast_bg.sqlite.wasm')).subarray(0, 4), Buffer.from('\0asm'));
    for (const chunk of readdirSync(join(copy, 'dist', 'chunks'))) {
      t.true(statSync(join(copy, 'dist', 'chunks', chunk)).size < 2_000_000, chunk);
      // Node.js's modules through require(): an ESM import of node:http loads undici on Node.js 22 and later
      t.notRegex(readFileSync(join(copy, 'dist', 'chunks', chunk), 'utf8'), /^import [^;]* from "node:/m, chunk);
    }
    const jwks = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    t.is(jwks.status, 200);
    t.is(((await jwks.json()) as { keys: unknown[] }).keys.length, 1);
    // the server is the built JavaScript (scripts/start.js checks the build and runs dist/src/main.js in
    // the same process), not the TypeScript sources, with the serving processes' heap settings
    t.regex(await serverCommand(child.pid!), new RegExp(`^\\S*node ${SERVING_FLAGS.join(' ')} scripts/start\\.js$`));
  } finally {
    killGroup(child, 'SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
  for (const line of stdout.split('\n').filter((l) => l !== '')) t.notThrows(() => JSON.parse(line), line);
});

/** The command line of the server process npm started (through sh) in the session it leads. */
async function serverCommand(session: number): Promise<string> {
  const { stdout } = await run('ps', ['-o', 'args=', '-s', String(session)]);
  const line = stdout.split('\n').find((l) => /^\S*node\b.*(start|main)\.js/.test(l));
  if (!line) throw new Error(`no server process among:\n${stdout}`);
  return line.trim();
}

test.serial('the admin CLI runs from dist/; a source newer than the build is built again first, its messages on stderr only', async (t) => {
  const listed = await tokenmint('app', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  t.is(listed.stderr, '', 'an up-to-date build is not built again');
  t.deepEqual(JSON.parse(listed.stdout), []);

  touchSource('src/admin/views.ts');
  const rebuilt = await tokenmint('app', 'create', 'billing', '--audiences', 'https://api.example', '--json');
  t.is(rebuilt.code, 0, rebuilt.stderr);
  t.regex(rebuilt.stderr, /^tokenmint: building dist\/ from the sources \(npm run build\)\n$/);
  t.is(JSON.parse(rebuilt.stdout).client_id, 'billing');

  const again = await tokenmint('app', 'list', '--json');
  t.is(again.stderr, '');
  t.deepEqual(JSON.parse(again.stdout).map((a: { client_id: string }) => a.client_id), ['billing']);

  // from Node.js 22.1, compiled code is kept for the next command beside the build (Node.js 20 has no such cache)
  t.is(existsSync(join(copy, 'dist', '.compile-cache')), typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function');

  // the build's own settings are a source of dist/ too
  touchSource('scripts/build.js');
  t.regex((await tokenmint('app', 'list')).stderr, /^tokenmint: building dist\/ from the sources \(npm run build\)\n$/);
});

test.serial('an added or removed source file is a reason to build again, and a build leaves nothing of the one before', async (t) => {
  mkdirSync(join(copy, 'src', 'leftover'));
  cpSync(join(copy, 'src', 'errors.ts'), join(copy, 'src', 'leftover', 'old.ts'));
  touchSource('src/leftover/old.ts');
  const added = await tokenmint('app', 'list');
  t.is(added.code, 0, added.stderr);
  t.regex(added.stderr, /building dist\//);
  // a file the previous build made and this one does not (as a chunk of code since removed would be)
  writeFileSync(join(copy, 'dist', 'chunks', 'from-an-older-build.js'), '');
  rmSync(join(copy, 'src', 'leftover'), { recursive: true });
  touchSource('src');
  const listed = await tokenmint('app', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stderr, /building dist\//);
  t.false(existsSync(join(copy, 'dist', 'chunks', 'from-an-older-build.js')));
  t.true(existsSync(join(copy, 'dist', 'src', 'main.js')));
});

test.serial('a source that does not compile fails the build with the compiler\'s message and keeps the last good build', async (t) => {
  const before = readFileSync(join(copy, 'dist', 'src', 'main.js'), 'utf8');
  const original = readFileSync(join(copy, 'src', 'errors.ts'), 'utf8');
  try {
    writeFileSync(join(copy, 'src', 'errors.ts'), `${original}\nexport const broken = ;\n`);
    touchSource('src/errors.ts');
    const failed = await tokenmint('app', 'list');
    t.is(failed.code, 1);
    t.is(failed.stdout, '');
    t.regex(failed.stderr, /src\/errors\.ts/);
    t.regex(failed.stderr, /tokenmint: the build failed .*dist\/ was not built/);
    t.is(readFileSync(join(copy, 'dist', 'src', 'main.js'), 'utf8'), before);
  } finally {
    writeFileSync(join(copy, 'src', 'errors.ts'), original);
  }
});

test.serial('two builds at once both succeed and leave one whole dist/, and nothing beside it', async (t) => {
  const builds = await Promise.all([1, 2].map(() => run(process.execPath, [join(copy, 'scripts', 'build.js')], { cwd: copy, env })));
  t.deepEqual(builds.map((b) => b.stdout), ['', '']);
  t.deepEqual(readdirSync(copy).filter((name) => name.startsWith('dist')), ['dist']);
  const listed = await tokenmint('app', 'list', '--json');
  t.is(listed.stderr, '');
  t.is(listed.code, 0);
});
