// Several nodes over one real PostgreSQL database, each a whole server (its own pool, caches and
// audit writer) as `npm start` on another machine would be.
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { basic, createApp, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';
import { connect, createTestDatabase, postgresAvailable, TEST_POSTGRES_URL, type TestDatabase } from '../helpers/postgres.ts';
import { quoteIdentifier } from '../../src/store/postgres-url.ts';

const available = await postgresAvailable();
const pgTest = available ? test.serial : test.skip;

const KEK = Buffer.alloc(32, 3).toString('base64');
let database: TestDatabase;
let nodes: Instance[] = [];

test.before(async () => {
  if (!available) return;
  database = await createTestDatabase('http');
  // started at the same moment on an empty database: one migrates and makes the first key, the others wait
  nodes = await Promise.all([1, 2, 3].map(() => startInstance({ DATABASE_URL: database.url, KEY_ENCRYPTION_KEY: KEK, DATABASE_POOL_SIZE: '3' })));
});

test.after.always(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await database?.drop();
});

async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = [], url = database.url): Promise<T[]> {
  const client = await connect(url);
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const token = (node: Instance, secret: string, clientId = 'pg-app') => node.token({ grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) });

pgTest('nodes started together on an empty database migrate it once and share one first signing key', async (t) => {
  const migrations = await sql<{ n: string }>('SELECT count(*) AS n FROM "_prisma_migrations"');
  t.is(Number(migrations[0]!.n), 1);
  const keys = await sql<{ kid: string; state: string }>('SELECT kid, state FROM signing_keys');
  t.is(keys.length, 1);
  t.is(keys[0]!.state, 'active');
  const jwks = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/.well-known/jwks.json`)).json()));
  t.deepEqual(jwks[1], jwks[0]);
  t.deepEqual(jwks[2], jwks[0]);
  for (const n of nodes) {
    const ready = await fetch(`${n.url}/readyz`);
    t.is(ready.status, 200);
    t.like(await ready.json(), { status: 'ready', checks: { database: true } });
  }
});

pgTest('an application created through one node is served by every node within 2 s; a token from one verifies with another node’s JWKS', async (t) => {
  const secret = await createApp(nodes[0]!, 'pg-app');
  for (const node of nodes) {
    const response = await untilPropagated(() => token(node, secret), (r) => r.status === 200);
    t.is(response.status, 200);
  }
  const { access_token } = (await (await token(nodes[2]!, secret)).json()) as { access_token: string };
  const { payload } = await jwtVerify(access_token, createRemoteJWKSet(new URL(`${nodes[1]!.url}/.well-known/jwks.json`)), { issuer: TEST_ISSUER });
  t.is(payload.client_id, 'pg-app');
});

pgTest('an application disabled on one node is refused by every node within 2 s', async (t) => {
  const secret = await createApp(nodes[1]!, 'pg-short-lived');
  await untilPropagated(() => token(nodes[2]!, secret, 'pg-short-lived'), (r) => r.status === 200);
  const disabled = await nodes[0]!.admin('app', 'disable', 'pg-short-lived');
  t.is(disabled.code, 0, disabled.stderr);
  for (const node of nodes) {
    const response = await untilPropagated(() => token(node, secret, 'pg-short-lived'), (r) => r.status === 401);
    t.is(response.status, 401);
  }
});

pgTest('every node writes its token requests to the one audit log', async (t) => {
  const secret = await createApp(nodes[0]!, 'pg-audited');
  const issued = [0, 0, 0];
  for (const [i, node] of nodes.entries()) {
    await untilPropagated(() => token(node, secret, 'pg-audited'), (r) => r.status === 200);
    issued[i]! += 1;
    for (let k = 0; k < 4; k++) if ((await token(node, secret, 'pg-audited')).status === 200) issued[i]! += 1;
  }
  const total = issued.reduce((a, b) => a + b, 0);
  const rows = await untilPropagated(
    () => sql<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE client_id = 'pg-audited' AND action = 'token.issued'`),
    (r) => Number(r[0]!.n) >= total,
    3000,
  );
  t.is(Number(rows[0]!.n), total);
  const listed = await nodes[2]!.admin('audit', 'list', '--app', 'pg-audited', '--json');
  t.is(listed.code, 0, listed.stderr);
});

pgTest('a key rotated through one node (keys rotate --now) is published and signs on every node within 2 s', async (t) => {
  const secret = await createApp(nodes[0]!, 'pg-rotation');
  const rotated = await nodes[2]!.admin('keys', 'rotate', '--now', '--json');
  t.is(rotated.code, 0, rotated.stderr);
  const kid = rotated.json<{ kid: string }>().kid;
  for (const node of nodes) {
    const answer = await untilPropagated(() => token(node, secret, 'pg-rotation'), (r) => r.status === 200);
    const signedWith = await untilPropagated(
      async () => decodeProtectedHeader(((await (await token(node, secret, 'pg-rotation')).json()) as { access_token: string }).access_token).kid,
      (k) => k === kid,
    );
    t.is(answer.status, 200);
    t.is(signedWith, kid);
    const jwks = (await (await fetch(`${node.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    t.true(jwks.keys.some((k) => k.kid === kid));
  }
});

pgTest('the database unreachable for a while: warm clients keep getting tokens, /readyz says not ready, admin commands fail clearly, and all recovers on its own', async (t) => {
  const secret = await createApp(nodes[0]!, 'pg-warm');
  // warm: each node has seen the latest admin change (which drops its caches) and then served the client
  const version = (await sql<{ version: number }>('SELECT version FROM state_version'))[0]!.version;
  for (const node of nodes) {
    await untilPropagated(async () => node.serving.deps.state.loadedVersion, (v) => v === version);
    t.is((await token(node, secret, 'pg-warm')).status, 200);
  }
  const name = quoteIdentifier(database.name);
  // as a server restarting or a network partition looks from here: every connection cut, no new one let in
  await sql(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`, [], TEST_POSTGRES_URL);
  await sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database.name], TEST_POSTGRES_URL);
  try {
    for (const node of nodes) {
      const r = await token(node, secret, 'pg-warm');
      t.is(r.status, 200, await r.clone().text());
    }
    const ready = await untilPropagated(() => fetch(`${nodes[0]!.url}/readyz`), (r) => r.status === 503, 5000);
    t.is(ready.status, 503);
    t.like(await ready.json(), { status: 'not ready', checks: { database: false } });
    const refused = await nodes[1]!.admin('app', 'list');
    t.is(refused.code, 1);
    t.regex(refused.stderr, /error: .*(cannot be reached|not currently accepting connections|could not be used)/);
    t.notRegex(refused.stderr, /at .*\.ts:\d+/);
  } finally {
    await sql(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`, [], TEST_POSTGRES_URL);
  }
  for (const node of nodes) {
    const ready = await untilPropagated(() => fetch(`${node.url}/readyz`), (r) => r.status === 200, 15_000);
    t.is(ready.status, 200);
  }
  // what was issued while the database was away reaches the audit log once it is back
  const rows = await untilPropagated(
    () => sql<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE client_id = 'pg-warm' AND action = 'token.issued'`),
    (r) => Number(r[0]!.n) >= 6,
    15_000,
  );
  t.is(Number(rows[0]!.n), 6);
  t.is((await nodes[1]!.admin('app', 'list')).code, 0);
});
