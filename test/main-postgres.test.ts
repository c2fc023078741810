// Several machines, as operators run them: two `npm start` processes (each with two workers) on
// two ports over one PostgreSQL database, started at the same moment on an empty database.
import test from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { basic, formBody } from './helpers/instance.ts';
import { connect, createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.ts';
import { freePort, ROOT, waitReady } from './helpers/process.ts';

const run = promisify(execFile);
const available = await postgresAvailable();
const pgTest = available ? test.serial : test.skip;

const ISSUER = 'https://issuer.nodes.test';
const dir = mkdtempSync(join(tmpdir(), 'tokenmint-nodes-'));
let database: TestDatabase;
let env: Record<string, string>;
const nodes: { port: number; url: string; child?: ChildProcess; output: string }[] = [];

function startNode(node: (typeof nodes)[number]): void {
  node.output = '';
  // a process group of its own: npm, the primary and its workers go together
  const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...env, PORT: String(node.port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (node.output += d));
  child.stderr!.on('data', (d) => (node.output += d));
  child.on('error', (error) => (node.output += `\n[npm start could not be started: ${error.message}]`));
  node.child = child;
}

async function stopNode(node: (typeof nodes)[number], signal: NodeJS.Signals): Promise<void> {
  const child = node.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
  await exited;
}

const admin = async (...argv: string[]) => {
  const { stdout } = await run(process.execPath, [join(ROOT, 'bin', 'tokenmint.js'), ...argv], { cwd: dir, env });
  return stdout;
};

const secretToken = (node: (typeof nodes)[number], secret: string) =>
  fetch(`${node.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('multi', secret) }, body: 'grant_type=client_credentials' });

/** Polls until `accept` holds or `limitMs` has passed; returns the last value. */
async function within<T>(limitMs: number, check: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (accept(value) || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test.before(async () => {
  if (!available) return;
  database = await createTestDatabase('nodes');
  env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    DATABASE_URL: database.url,
    KEY_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ISSUER_URL: ISSUER,
    HOST: '127.0.0.1',
    WORKERS: '2',
    LOG_LEVEL: 'warn',
    AUTH_FAILURES_PER_MINUTE: '100000',
    npm_config_update_notifier: 'false',
  };
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    nodes.push({ port, url: `http://127.0.0.1:${port}`, output: '' });
  }
  for (const node of nodes) startNode(node);
  const ready = await Promise.all(nodes.map((n) => waitReady(n.url, 90_000)));
  if (!ready.every(Boolean)) throw new Error(`a node did not become ready:\n${nodes.map((n) => n.output).join('\n---\n')}`);
});

test.after.always(async () => {
  await Promise.all(nodes.map((n) => stopNode(n, 'SIGKILL')));
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

pgTest('two nodes started at the same moment on an empty database: migrated once, one first signing key, the same JWKS', async (t) => {
  const client = await connect(database.url);
  try {
    t.is(Number((await client.query('SELECT count(*) AS n FROM "_prisma_migrations"')).rows[0].n), 1);
    t.is(Number((await client.query('SELECT count(*) AS n FROM signing_keys')).rows[0].n), 1);
  } finally {
    await client.end();
  }
  const [a, b] = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/.well-known/jwks.json`)).json()));
  t.deepEqual(a, b);
  for (const node of nodes) t.notRegex(node.output, /"level":(50|60)/, node.output);
});

let secret = '';

pgTest('an admin change is served by both nodes within 2 s, and a token of one verifies with the other’s JWKS', async (t) => {
  secret = JSON.parse(await admin('app', 'create', 'multi', '--secret', '--scopes', 'read', '--audiences', 'https://api.example', '--json')).client_secret;
  const changed = Date.now();
  const answers = await Promise.all(nodes.map((n) => within(2000, () => secretToken(n, secret), (r) => r.status === 200)));
  t.true(Date.now() - changed < 2500);
  for (const answer of answers) t.is(answer.status, 200);
  const { access_token } = (await answers[0]!.json()) as { access_token: string };
  const jwks = createLocalJWKSet((await (await fetch(`${nodes[1]!.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
  const { payload } = await jwtVerify(access_token, jwks, { issuer: ISSUER, audience: 'https://api.example' });
  t.is(payload.client_id, 'multi');
});

pgTest('a client assertion replayed to both nodes at once is accepted exactly once', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'partner.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  await admin('app', 'create', 'partner', '--audiences', 'https://api.example');
  await admin('cert', 'add', 'partner-key', '--file', join(dir, 'partner.pem'), '--app', 'partner');
  const assertion = (jti: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('partner').setSubject('partner').setAudience(ISSUER).setIssuedAt().setExpirationTime('2m').setJti(jti).sign(privateKey);
  const send = (node: (typeof nodes)[number], jwt: string) =>
    fetch(`${node.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }),
    });
  // both nodes know the client before the replay starts
  for (const node of nodes) t.is((await within(2000, async () => send(node, await assertion(randomUUID())), (r) => r.status === 200)).status, 200);
  const replayed = await assertion(randomUUID());
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(nodes[i % 2]!, replayed)));
  const statuses = answers.map((r) => r.status).sort();
  t.deepEqual(statuses, [200, 401, 401, 401, 401, 401, 401, 401, 401, 401]);
  const refusal = await answers.find((r) => r.status !== 200)!.json();
  t.like(refusal, { error: 'invalid_client' });
});

pgTest('kill -9 of one node: the other keeps serving and taking admin changes; the killed node restarts and serves again', async (t) => {
  const [killed, survivor] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
  await stopNode(killed, 'SIGKILL');
  t.is((await secretToken(survivor, secret)).status, 200);
  await admin('app', 'disable', 'multi');
  t.is((await within(2000, () => secretToken(survivor, secret), (r) => r.status === 401)).status, 401);
  await admin('app', 'enable', 'multi');
  t.is((await within(2000, () => secretToken(survivor, secret), (r) => r.status === 200)).status, 200);
  startNode(killed);
  t.true(await waitReady(killed.url, 90_000), killed.output);
  const answer = await within(2000, () => secretToken(killed, secret), (r) => r.status === 200);
  t.is(answer.status, 200);
  const { access_token } = (await answer.json()) as { access_token: string };
  const jwks = createLocalJWKSet((await (await fetch(`${survivor.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
  await t.notThrowsAsync(jwtVerify(access_token, jwks, { issuer: ISSUER }));
});
