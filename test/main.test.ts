import test from 'ava';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { SERVING_FLAGS } from '../src/heap-settings.ts';
import { issuerKey } from './helpers/external-issuer.ts';
import { corruptTable } from './helpers/database-faults.ts';
import { basic, formBody, prepareDatabase, runAdmin, tempDir, testConfig } from './helpers/instance.ts';
import { freePort, start, waitReady, workerPids } from './helpers/process.ts';

// The tests that start a cluster (a primary and two workers, each compiling the sources at start)
// run one at a time, and wait for readiness longer than a single server needs: on two cores busy
// with the rest of the suite a cluster's start can take half a minute, which says nothing about
// tokenmint (a lone server starts in a few seconds).
const CLUSTER_START_MS = 90_000;
test('bad configuration stops start-up with one line per problem, naming the variable', async (t) => {
  const dir = tempDir();
  const { child, output } = start({ DATABASE_URL: `file:${join(dir, 'x.db')}`, PORT: 'abc', SIGNING_ALG: 'HS256' });
  const [code] = await once(child, 'exit');
  t.is(code, 1);
  const lines = output().stderr.trim().split('\n');
  t.is(lines.length, 2);
  t.true(lines.some((l) => l.includes('PORT')));
  t.true(lines.some((l) => l.includes('SIGNING_ALG')));
});

test('a corrupt database stops start-up with one clear line, before any worker opens it or serves', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  t.is((await runAdmin(config, ['app', 'create', 'a', '--audiences', 'https://api.example'])).code, 0);
  corruptTable(config.databaseFile, 'applications');
  const port = await freePort();
  // the workers are forked at once and load their code while the primary checks the database
  const { child, output } = start({ DATABASE_URL: `file:${config.databaseFile}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2' });
  const [code] = await once(child, 'exit');
  t.is(code, 1);
  t.is(output().stderr, `tokenmint: the database ${config.databaseFile} is corrupt (database disk image is malformed): restore it from a backup (see README, Backups); npm run admin -- check runs the full integrity check\n`);
  t.false(await waitReady(`http://127.0.0.1:${port}`, 1500), 'no worker serves once the primary has stopped');
});

test.serial('several workers share the port, all see admin changes within 2 seconds, and SIGTERM stops them cleanly', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: 'https://issuer.example' };
  const { child, output } = start(env);
  try {
    const url = `http://127.0.0.1:${port}`;
    t.true(await waitReady(url, CLUSTER_START_MS), output().stderr);
    t.regex(output().stdout, /generated one into the data directory/);
    // the primary was started without them: the workers it forks get the serving processes' heap settings
    const workers = workerPids(child.pid!).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    t.is(workers.length, 2);
    for (const argv of workers) for (const flag of SERVING_FLAGS) t.true(argv.includes(flag), argv.join(' '));
    const config = testConfig(dir, { ...env, LOG_LEVEL: 'silent' });
    const created = await runAdmin(config, ['app', 'create', 'multi', '--secret', '--audiences', 'https://api.example', '--json']);
    const secret = created.json<{ client_secret: string }>().client_secret;
    const request = () =>
      fetch(`${url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('multi', secret) },
        body: formBody({ grant_type: 'client_credentials' }),
      }).then((r) => r.status);
    // warm both workers' caches and verified-secret caches
    await new Promise((r) => setTimeout(r, 600));
    const before = await Promise.all(Array.from({ length: 8 }, request));
    t.deepEqual(before, Array(8).fill(200));
    t.is((await runAdmin(config, ['app', 'disable', 'multi'])).code, 0);
    await new Promise((r) => setTimeout(r, 2000));
    const after = await Promise.all(Array.from({ length: 8 }, request));
    t.deepEqual(after, Array(8).fill(401));
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    t.is(code, 0);
  }
});

test.serial('with several workers, a token revoked at one worker is inactive at every worker for the very next request', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: 'https://issuer.example' };
  const { child, output } = start(env);
  try {
    t.true(await waitReady(`http://127.0.0.1:${port}`, CLUSTER_START_MS), output().stderr);
    const config = testConfig(dir, { ...env, LOG_LEVEL: 'silent' });
    const secret = (await runAdmin(config, ['app', 'create', 'revoker', '--secret', '--audiences', 'https://api.example', '--json'])).json<{ client_secret: string }>().client_secret;
    await new Promise((r) => setTimeout(r, 2000));
    const authorization = basic('revoker', secret);
    // a new connection per request: the primary hands connections to the workers in turn
    const post = (path: string, form: Record<string, string>) => freshConnectionPost(port, path, formBody(form), authorization);
    const issued = JSON.parse((await post('/token', { grant_type: 'client_credentials' })).body) as { access_token: string };
    const token = issued.access_token;
    const before = await Promise.all(Array.from({ length: 4 }, () => post('/introspect', { token })));
    t.true(before.every((r) => JSON.parse(r.body).active === true));
    t.is((await post('/revoke', { token })).status, 200);
    const after: string[] = [];
    for (let i = 0; i < 10; i++) after.push((await post('/introspect', { token })).body);
    t.deepEqual(after, Array(10).fill('{"active":false}'));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

function freshConnectionPost(port: number, path: string, body: string, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test.serial('the primary promotes a rotated key once it has been published KEY_PUBLISH_AHEAD, and both workers sign with it within 2 s', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: 'https://issuer.example', KEY_PUBLISH_AHEAD: '4' };
  const { child, output } = start(env);
  try {
    t.true(await waitReady(`http://127.0.0.1:${port}`, CLUSTER_START_MS), output().stderr);
    const config = testConfig(dir, { ...env, LOG_LEVEL: 'silent' });
    const secret = (await runAdmin(config, ['app', 'create', 'rotating', '--secret', '--audiences', 'https://api.example', '--json'])).json<{ client_secret: string }>().client_secret;
    await new Promise((r) => setTimeout(r, 2000));
    const authorization = basic('rotating', secret);
    const kids = async (n: number) => {
      const found: string[] = [];
      for (let i = 0; i < n; i++) {
        const issued = JSON.parse((await freshConnectionPost(port, '/token', formBody({ grant_type: 'client_credentials' }), authorization)).body) as { access_token: string };
        found.push(JSON.parse(Buffer.from(issued.access_token.split('.')[0]!, 'base64url').toString()).kid);
      }
      return found;
    };
    const [before] = await kids(1);
    const rotated = await runAdmin(config, ['keys', 'rotate', '--json']);
    t.is(rotated.code, 0, rotated.stderr);
    const next = rotated.json<{ kid: string; promote_at: string }>();
    t.deepEqual(await kids(4), Array(4).fill(before), 'not before it has been published long enough');
    // the schedule looks every second with this publish-ahead time; every worker reloads within 2 s of the promotion
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(next.promote_at) - Date.now()) + 1000 + 2000));
    t.deepEqual(await kids(6), Array(6).fill(next.kid));
    const listed = (await runAdmin(config, ['keys', 'list', '--json'])).json<{ kid: string; state: string }[]>();
    t.is(listed.find((k) => k.kid === before)?.state, 'retired');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test.serial('a single-use assertion presented concurrently to several worker processes succeeds exactly once', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const issuer = 'https://issuer.example';
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: issuer };
  const { child, output } = start(env);
  try {
    const url = `http://127.0.0.1:${port}`;
    t.true(await waitReady(url, CLUSTER_START_MS), output().stderr);
    const config = testConfig(dir, { ...env, LOG_LEVEL: 'silent' });
    const key = await issuerKey('ES256');
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [key.publicJwk] }));
    for (const argv of [
      ['app', 'create', 'jobs', '--grants', 'jwt-bearer', '--audiences', 'https://api.example'],
      ['jwks', 'add', 'ci', '--file', file, '--issuer', 'https://ci.example', '--algorithms', 'ES256', '--replay', 'reject', '--app', 'jobs'],
    ]) {
      const run = await runAdmin(config, argv);
      t.is(run.code, 0, run.stderr);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ iss: 'https://ci.example', sub: 'job-1', aud: issuer, iat: now, exp: now + 120, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .sign(key.privateKey);
    const statuses = await Promise.all(
      Array.from({ length: 16 }, () =>
        fetch(`${url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: formBody({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }),
        }).then((r) => r.status),
      ),
    );
    t.is(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
    t.is(statuses.filter((s) => s === 400).length, 15);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
