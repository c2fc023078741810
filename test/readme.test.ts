// README.md, run as written.
//
// Conventions (README.md follows them; test/helpers/readme.ts reads them):
//
// - ```sh, ```bash and ```shell blocks run, in README order, in one long-lived bash process with
//   `set -euo pipefail`, as a reader pastes them into one terminal: variables (exported or not)
//   and the working directory carry from one block to the next. The working directory is a fresh
//   temporary directory holding symbolic links to package.json, package-lock.json, node_modules,
//   bin, dist (the build `npm test` makes first), src, scripts, prisma and tsconfig.json, so
//   `npm start` and `npm run admin` work there and everything the README creates (data/ with the
//   database and key-encryption key, key pairs, JWKS files) lands there, never in the repository.
//   The environment holds only PATH, HOME (a temporary directory too) and
//   npm_config_update_notifier=false.
// - ```console blocks are transcripts: `$ ` lines (with their `\` continuations) run, the other
//   lines are what they print, stdout and stderr together.
// - Other blocks (yaml, js, json, configuration excerpts, CLI synopses) are documentation and do
//   not run, except as below.
// - An HTML comment right before a block (blank lines between are fine) changes how it is taken:
//     <!-- readme-test: skip (reason) -->  not run; the reason is required and is reported. For
//                                          blocks that need the outside world (a cluster, CI, a
//                                          partner, the npm registry, root) or that change the
//                                          source tree.
//     <!-- readme-test: server -->         the command that starts the server: the harness runs
//                                          it in the background, exactly as written, with PORT set
//                                          to a free port, and waits for /readyz. It is stopped at
//                                          the end, and its stdout must have been JSON lines only.
//     <!-- readme-test: file NAME -->      the block (of any language) is saved as NAME in the
//                                          working directory, as the reader is told to save it.
//     <!-- readme-test: exit N -->         the block is expected to exit with status N (in a
//                                          subshell, so it leaves no variables behind).
// - The only substitution: `localhost:3000` becomes `localhost:<the free port>` everywhere.
// - Expected output: a ```json, ```text or unlabelled ``` block right after a running block (only blank
//   lines between) is what that block prints on stdout. Its shape is compared, not its values:
//     JSON: the same keys and value types (arrays: every element has the first shown one's shape).
//     Text: the same number of lines, each matching the shown line literally except the width of
//           spaces, `...` (anything) and values that differ per run, recognised in the shown line:
//           ISO timestamps, tmcs_/tmap_ secrets, hex digests and long base64url ids.
// - A block fails when it exits otherwise than expected, when its output lacks the shape shown,
//   or when it prints an OAuth error response ({"error": ...}) the README does not show: `curl -s`
//   exits 0 on a 400.
// - Admin changes reach the server within 2 seconds (README: Admin CLI); a reader takes longer
//   than that between two commands, so before a block that talks to the server the harness lets
//   2.5 s pass since the last admin command. This test is not a test of that bound.
// - At least MIN_RUN blocks must run, so that skip markers cannot quietly take over the README.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlockShell, killGroup } from './helpers/readme-shell.ts';
import { jsonShapeProblems, linePattern, OAUTH_ERROR, parseMarker, readmeSteps, textShapeProblems, type Step } from './helpers/readme.ts';
import { freePort, ROOT, waitReady } from './helpers/process.ts';

/** The number of README blocks that run today; lower it only together with a reason in README.md. */
const MIN_RUN = 34;
const ADMIN_REACH_MS = 2500;
const BLOCK_LIMIT_MS = 100_000;
const SERVER_READY_MS = 100_000;
const LINKED = ['package.json', 'package-lock.json', 'node_modules', 'bin', 'dist', 'src', 'scripts', 'prisma', 'tsconfig.json'];

const port = await freePort();
const steps = readmeSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'), (text) => text.replaceAll('localhost:3000', `localhost:${port}`));

const root = mkdtempSync(join(tmpdir(), 'tokenmint-readme-'));
const work = join(root, 'work');
const harness = join(root, 'harness');
const env: Record<string, string> = {
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  HOME: join(root, 'home'),
  // npm would otherwise look for a newer npm on the network from time to time
  npm_config_update_notifier: 'false',
};

let shell: BlockShell | undefined;
let server: { child: ChildProcess; stdout: string; stderr: string; exited: Promise<unknown> } | undefined;
let failed: string | undefined;
let lastAdminCommand = 0;
const counts = { ran: 0, compared: 0, saved: 0 };

process.on('exit', () => {
  killGroup(server?.child, 'SIGKILL');
  killGroup(shell?.child, 'SIGKILL');
});

test.before(() => {
  for (const dir of [work, harness, env.HOME!]) mkdirSync(dir, { recursive: true });
  for (const name of LINKED) symlinkSync(join(ROOT, name), join(work, name));
  shell = new BlockShell(harness, work, env);
});

test.after.always(async () => {
  await stopServer();
  killGroup(shell?.child, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function stopServer(): Promise<boolean> {
  if (!server) return true;
  killGroup(server.child, 'SIGTERM');
  const stopped = await Promise.race([server.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20_000))]);
  if (!stopped) killGroup(server.child, 'SIGKILL');
  return stopped;
}

const talksToServer = (script: string) => script.includes(`localhost:${port}`);
const runsAdmin = (script: string) => /\bnpm\b.*\brun\b.*\badmin\b|\bnpx\s+tokenmint\b/.test(script);
const firstLine = (text: string) => {
  const line = text.split('\n').find((l) => l.trim() && !l.trimStart().startsWith('#')) ?? '';
  return line.length > 70 ? `${line.slice(0, 67)}...` : line;
};

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

for (const step of steps) {
  if (step.kind === 'skip') continue;
  const what = step.kind === 'file' ? `saved as ${step.name}` : firstLine(step.script);
  test.serial(`README line ${step.fence.line}: ${what}`, async (t) => {
    if (failed) return t.fail(`not run: ${failed} failed before it`);
    failed = `README line ${step.fence.line}`;
    const problem = step.kind === 'file' ? saveFile(step) : step.kind === 'server' ? await startServer(step) : await runBlock(step);
    if (problem) return t.fail(problem);
    failed = undefined;
    t.pass();
  });
}

/** Each of these returns what went wrong, or nothing. */
function saveFile(step: StepOf<'file'>): string | undefined {
  writeFileSync(join(work, step.name), `${step.content}\n`);
  counts.saved++;
  return undefined;
}

async function startServer(step: StepOf<'server'>): Promise<string | undefined> {
  if (server) return 'only one block may start the server';
  const child = spawn('bash', ['-euo', 'pipefail', '-c', step.script], { cwd: work, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const started = { child, stdout: '', stderr: '', exited: once(child, 'exit') };
  server = started;
  child.stdout!.on('data', (d) => (started.stdout += d));
  child.stderr!.on('data', (d) => (started.stderr += d));
  child.on('error', (error) => (started.stderr += `\n[the server block could not be started: ${error.message}]`));
  const ready = await Promise.race([waitReady(`http://127.0.0.1:${port}`, SERVER_READY_MS), started.exited.then(() => false)]);
  if (!ready) return `the server did not become ready:\n${started.stderr}${started.stdout.slice(-2000)}`;
  counts.ran++;
  return undefined;
}

async function runBlock(step: StepOf<'run'>): Promise<string | undefined> {
  if (talksToServer(step.script)) {
    const wait = lastAdminCommand + ADMIN_REACH_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const result = await shell!.run(step.script, { keep: step.status === 0, merged: step.merged, limitMs: BLOCK_LIMIT_MS });
  if (runsAdmin(step.script)) lastAdminCommand = Date.now();
  const shown = `\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
  if (result.status !== step.status) return `exit status ${result.status}, expected ${step.status}${shown}`;
  if (OAUTH_ERROR.test(result.stdout) && !(step.expected && OAUTH_ERROR.test(step.expected.content))) return `an error response the README does not show${shown}`;
  if (step.expected) {
    const problems = shapeProblems(step.expected.kind, step.expected.content, result.stdout);
    if (problems.length > 0) return `output does not have the shape shown at README line ${step.expected.line}:\n${problems.join('\n')}${shown}`;
    counts.compared++;
  }
  counts.ran++;
  return undefined;
}

function shapeProblems(kind: 'json' | 'text', expected: string, stdout: string): string[] {
  if (kind === 'text') return textShapeProblems(expected, stdout);
  let actual: unknown;
  try {
    actual = JSON.parse(stdout);
  } catch {
    return ['stdout is not one JSON document'];
  }
  return jsonShapeProblems(JSON.parse(expected), actual);
}

test.serial('README: the server started as written stops on SIGTERM, and its stdout held JSON log lines only', async (t) => {
  if (!server) return t.fail('no block marked <!-- readme-test: server --> started a server');
  t.true(await stopServer(), 'stopped within 20 s');
  const lines = server.stdout.split('\n').filter((l) => l !== '');
  t.true(lines.length > 0);
  for (const line of lines) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const record = parsed as { level?: unknown; msg?: unknown } | undefined;
    t.true(typeof record?.level === 'number' && typeof record.msg === 'string', `not a JSON log line: ${line}`);
  }
});

test.serial('README: enough blocks ran, and every skipped one says why', (t) => {
  const skipped = steps.filter((s) => s.kind === 'skip');
  t.log(`${counts.ran} shell blocks ran (${counts.compared} outputs compared by shape), ${counts.saved} files saved, ${skipped.length} blocks skipped:`);
  for (const s of skipped) t.log(`  line ${s.fence.line}: ${firstLine(s.fence.content)} (${s.reason})`);
  t.is(failed, undefined, 'every block ran');
  t.is(steps.filter((s) => s.kind === 'server').length, 1, 'one block starts the server');
  t.true(counts.ran >= MIN_RUN, `${counts.ran} blocks ran, at least ${MIN_RUN} must`);
});

// ── the conventions themselves ──────────────────────────────────────────────────────────────

test('a skip marker needs a reason, and an unknown marker is refused', (t) => {
  t.throws(() => parseMarker(' skip ', 3), { message: /needs a reason/ });
  t.throws(() => parseMarker(' skip () ', 3), { message: /needs a reason/ });
  t.throws(() => parseMarker(' skipp (x) ', 3), { message: /unknown readme-test marker/ });
  t.deepEqual(parseMarker(' skip (needs a Kubernetes cluster) ', 3), { kind: 'skip', reason: 'needs a Kubernetes cluster' });
  t.deepEqual(parseMarker('file sign-jwt.mjs', 3), { kind: 'file', name: 'sign-jwt.mjs' });
  t.throws(() => parseMarker('file ../escape.mjs', 3));
});

test('blocks, markers and the output shown right after a block become steps', (t) => {
  const markdown = [
    '<!-- readme-test: skip (needs the registry) -->',
    '```sh',
    'npm install',
    '```',
    '<!-- readme-test: server -->',
    '',
    '```sh',
    'npm start --silent',
    '```',
    '',
    '```sh',
    'curl -s http://localhost:3000/healthz',
    '```',
    '',
    '```json',
    '{"status": "ok"}',
    '```',
    'Prose.',
    '```',
    'a synopsis, not output',
    '```',
    '```yaml',
    'a: 1',
    '```',
    '<!-- readme-test: exit 1 -->',
    '```console',
    '$ false \\',
    '  || false',
    'nothing',
    '```',
    '  ```sh',
    '  echo indented',
    '  ```',
  ].join('\n');
  const steps: Step[] = readmeSteps(markdown, (s) => s.replaceAll('localhost:3000', 'localhost:1'));
  t.deepEqual(
    steps.map((s) => s.kind),
    ['skip', 'server', 'run', 'run', 'run'],
  );
  const [, , curl, console, indented] = steps;
  t.like(curl, { script: 'curl -s http://localhost:1/healthz', expected: { kind: 'json', content: '{"status": "ok"}' }, status: 0 });
  t.like(console, { script: 'false \\\n  || false', expected: { kind: 'text', content: 'nothing' }, status: 1, merged: true });
  t.like(indented, { script: 'echo indented' });
  t.is((indented as { expected?: unknown }).expected, undefined);
  t.throws(() => readmeSteps('<!-- readme-test: server -->\nProse.\n```sh\nx\n```'), { message: /no block follows/ });
  t.throws(() => readmeSteps('<!-- readme-test: server -->\n```yaml\nx\n```'), { message: /not a shell block/ });
});

test('JSON output is compared by keys and types, values free', (t) => {
  const shown = { access_token: 'eyJ...', expires_in: 600, scope: 'a', list: [{ id: 'x' }], none: null };
  t.deepEqual(jsonShapeProblems(shown, { access_token: 'abc', expires_in: 1, scope: 'b c', list: [{ id: 'y' }, { id: 'z' }], none: null }), []);
  t.deepEqual(jsonShapeProblems(shown, { access_token: 'abc', expires_in: '1', list: [{ id: 1 }], none: null, error: 'x' }), [
    '$.scope: missing',
    '$.error: not shown in the README',
    '$.expires_in: expected number, got string ("1")',
    '$.list[0].id: expected string, got number (1)',
  ]);
  t.deepEqual(jsonShapeProblems([], [1]), []);
});

test('text output is compared line by line; timestamps, secrets, digests and ids are free', (t) => {
  t.true(linePattern('created_at:       2026-11-23T09:27:42.708Z').test('created_at: 2027-01-02T03:04:05.006Z'));
  t.true(linePattern('client_secret:    tmcs_kybcq667qaz56inq_jm_hq78lTNV6mefMC82v2UYU6iX-9M0cPnnY-HLlkjE').test('client_secret:  tmcs_0123456789abcdef_xyz-_1'));
  t.true(linePattern('fingerprint:    8da0ba961f9312a2749db52de61aafbf7191d60be59d36539417314b8e500c09').test('fingerprint: 0123456789abcdef0123'));
  t.true(linePattern('kids:           igO-5Ykg2mx7mU6PlUT77f0APmzw0iQA63xNsArwG-g').test('kids: Zz9-abcdefghijklmnopqrstu'));
  t.true(linePattern('token: eyJ...').test('token: eyJhbGciOi'));
  t.false(linePattern('scopes:           invoices:read,invoices:write').test('scopes: invoices:read'));
  t.false(linePattern('has_secret:       true').test('has_secret: false'));
  t.deepEqual(textShapeProblems('a: 1\nb: 2\n', 'a:  1\nb: 2\n\n'), []);
  t.is(textShapeProblems('a: 1', 'a: 1\nb: 2').length, 1);
  t.is(textShapeProblems('a: 1\nb: 2', 'a: 1').length, 1);
});

test('a block shell that dies between two blocks: the next block reports how it ended, and the test process goes on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-readme-shell-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dying = new BlockShell(dir, dir, { PATH: env.PATH! });
  t.teardown(() => killGroup(dying.child, 'SIGKILL'));
  t.is((await dying.run('echo one', { keep: true, merged: false, limitMs: 10_000 })).status, 0);
  killGroup(dying.child, 'SIGKILL');
  // the shell is gone, and this process has not heard of it yet: the next request meets a closed pipe
  const until = Date.now() + 200;
  while (Date.now() < until);
  const next = await dying.run('echo two', { keep: true, merged: false, limitMs: 10_000 });
  t.is(next.status, 137);
  t.is(next.stdout, '');
  t.false(dying.alive);
});
