// The store on a real PostgreSQL server: what differs from SQLite (the audit writer's statements,
// the advisory locks, the errors) and what several nodes on one database rely on.
import test from 'ava';
import pg from 'pg';
import { ConfigError, loadConfig, type DatabaseConfig } from '../../src/config.ts';
import { listAuditEvents } from '../../src/store/audit.ts';
import { MIGRATION_LOCK, migratePostgres, withAdvisoryLock } from '../../src/store/migrate-postgres.ts';
import { JOB_LOCKS, runAlone, schemaLockKey } from '../../src/store/node-lock.ts';
import { PostgresAuditSink } from '../../src/store/postgres-audit-sink.ts';
import { createPrisma, providerOf, type Db } from '../../src/store/prisma.ts';
import { recordFirstUse } from '../../src/store/replay.ts';
import { purgeExpired } from '../../src/store/housekeeping.ts';
import { revocationsAfter, revokeIssuedBefore, revokeTokenId } from '../../src/store/revocations.ts';
import { clientConfig, postgresTarget } from '../../src/store/postgres-url.ts';
import { describeStorageError, isDatabaseError, isUnreachable } from '../../src/store/storage-errors.ts';
import { connect, createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.ts';

const available = await postgresAvailable();
const pgTest = available ? test : test.skip;
// the job-lock tests take the same locks
const pgSerial = available ? test.serial : test.skip;

let database: TestDatabase;
let config: DatabaseConfig;
const clients: Db[] = [];

test.before(async () => {
  if (!available) return;
  database = await createTestDatabase('store');
  const client = await connect(database.url);
  try {
    await withAdvisoryLock(client, MIGRATION_LOCK, () => migratePostgres(client, undefined));
  } finally {
    await client.end();
  }
  config = { kind: 'postgresql', url: database.url, poolSize: 3 };
});

test.after.always(async () => {
  await Promise.all(clients.map((c) => c.$disconnect()));
  await database?.drop();
});

async function node(): Promise<Db> {
  const db = await createPrisma(config);
  clients.push(db);
  return db;
}

pgTest('a client of a postgresql:// database is a PostgreSQL client, in and out of a transaction', async (t) => {
  const db = await node();
  t.is(providerOf(db), 'postgresql');
  t.is(await db.$transaction(async (tx) => providerOf(tx)), 'postgresql');
  t.is(providerOf(await createPrisma('/nonexistent/file.db')), 'sqlite');
});

pgTest('a single-use assertion presented at once to two nodes, ten times each, is accepted exactly once', async (t) => {
  const [a, b] = [await node(), await node()];
  const expires = new Date(Date.now() + 60_000);
  const attempts = Array.from({ length: 20 }, (_, i) => recordFirstUse(i % 2 ? a : b, 'https://ci.example', 'jti-once', expires));
  const results = await Promise.all(attempts);
  t.is(results.filter(Boolean).length, 1);
  t.true(await recordFirstUse(a, 'https://ci.example', 'jti-other', expires));
  t.false(await recordFirstUse(b, 'https://ci.example', 'jti-other', expires));
});

pgTest('the audit writer inserts a batch as one statement, every field and millisecond intact, and reads back like the rest of the store', async (t) => {
  const sink = new PostgresAuditSink(database.url);
  try {
    const at = new Date('2026-11-30T23:59:59.123Z');
    const events = Array.from({ length: 1500 }, (_, i) => ({
      at: new Date(at.getTime() + i),
      action: 'token.issued',
      outcome: 'success' as const,
      clientId: `pg-audit-${i % 3}`,
      subject: i === 0 ? "O'Brien \"quoted\" ☃" : null,
      reason: null,
      ip: '192.0.2.1',
      details: i === 0 ? { scope: 'read', n: 1 } : null,
    }));
    await sink.insertAuditEvents(events);
    const db = await node();
    const stored = await listAuditEvents(db, { clientId: 'pg-audit-0', limit: 10_000 });
    t.is(stored.length, 500);
    const first = stored.find((e) => e.subject !== null)!;
    t.is(first.at.toISOString(), '2026-11-30T23:59:59.123Z');
    t.is(first.subject, "O'Brien \"quoted\" ☃");
    t.deepEqual(first.details, { scope: 'read', n: 1 });
    t.is(first.ip, '192.0.2.1');
  } finally {
    await sink.close();
  }
});

pgTest('app-password last-used times are written in one statement, in UTC', async (t) => {
  const db = await node();
  const account = await db.serviceAccount.create({ data: { username: 'pg-touch', displayName: 'touch' } });
  await db.appPassword.create({ data: { id: 'pw-touch-1', serviceAccountId: account.id, hash: 'x' } });
  await db.appPassword.create({ data: { id: 'pw-touch-2', serviceAccountId: account.id, hash: 'x' } });
  const sink = new PostgresAuditSink(database.url);
  try {
    const at = new Date('2026-12-01T08:00:00.456Z');
    await sink.touchAppPasswords(new Map([['pw-touch-1', at], ['pw-unknown', at]]));
    t.is((await db.appPassword.findUnique({ where: { id: 'pw-touch-1' } }))!.lastUsedAt?.toISOString(), at.toISOString());
    t.is((await db.appPassword.findUnique({ where: { id: 'pw-touch-2' } }))!.lastUsedAt, null);
  } finally {
    await sink.close();
  }
});

pgSerial('a job runs on one node at a time: while one node holds its lock the others skip their turn, and the next turn runs again', async (t) => {
  let release!: () => void;
  const holding = new Promise<void>((resolve) => (release = resolve));
  let runs = 0;
  const first = runAlone(config, JOB_LOCKS.housekeeping, async () => {
    runs++;
    await holding;
    return 'ran';
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const others = await Promise.all([1, 2, 3].map(() => runAlone(config, JOB_LOCKS.housekeeping, async () => ++runs)));
  t.deepEqual(others, [undefined, undefined, undefined]);
  // another job's lock is its own
  t.is(await runAlone(config, JOB_LOCKS.keyLifecycle, async () => 'other job'), 'other job');
  release();
  t.is(await first, 'ran');
  t.is(await runAlone(config, JOB_LOCKS.housekeeping, async () => 'again'), 'again');
  t.is(runs, 1);
});

pgSerial('deployments in two schemas of one database run their jobs independently; ?schema=public is the default schema', async (t) => {
  t.is(schemaLockKey('public'), schemaLockKey(undefined));
  t.not(schemaLockKey('staging'), schemaLockKey(undefined));
  let release!: () => void;
  const holding = new Promise<void>((resolve) => (release = resolve));
  const first = runAlone(config, JOB_LOCKS.housekeeping, () => holding.then(() => 'public'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(await runAlone({ kind: 'postgresql', poolSize: 1, url: `${database.url}?schema=public` }, JOB_LOCKS.housekeeping, async () => 'again'), undefined);
  t.is(await runAlone({ kind: 'postgresql', poolSize: 1, url: `${database.url}?schema=staging` }, JOB_LOCKS.housekeeping, async () => 'staging'), 'staging');
  release();
  t.is(await first, 'public');
});

pgSerial('a job whose process dies lets go of its lock: the server ends the session and another node takes the next turn', async (t) => {
  const holder = await connect(database.url);
  await holder.query('SELECT pg_advisory_lock($1::int, $2::int)', [JOB_LOCKS.keyLifecycle, schemaLockKey(undefined)]);
  t.is(await runAlone(config, JOB_LOCKS.keyLifecycle, async () => 'ran'), undefined);
  // as a kill -9 would: the connection goes without unlocking
  (holder as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  let result: string | undefined;
  for (let i = 0; i < 50 && result === undefined; i++) {
    result = await runAlone(config, JOB_LOCKS.keyLifecycle, async () => 'ran');
    if (result === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.is(result, 'ran');
});

test('a PostgreSQL DATABASE_URL needs KEY_ENCRYPTION_KEY: every node must open the same keys', (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL: 'postgresql://tm:s3cret@db.example:5432/tokenmint' }), { instanceOf: ConfigError });
  t.regex(error!.message, /KEY_ENCRYPTION_KEY: must be set when DATABASE_URL is a PostgreSQL URL/);
  const config = loadConfig({ DATABASE_URL: 'postgresql://tm:s3cret@db.example:5432/tokenmint', KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), DATABASE_POOL_SIZE: '12' });
  t.deepEqual(config.database, { kind: 'postgresql', url: 'postgresql://tm:s3cret@db.example:5432/tokenmint', poolSize: 12 });
  t.is(config.databaseFile, '');
});

test('a bad PostgreSQL URL is refused without echoing its password', (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL: 'postgresql://tm:s3cret@db.example:5432/tokenmint?schema=x;drop', KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }), {
    instanceOf: ConfigError,
  });
  t.regex(error!.message, /schema= must be a plain identifier/);
  t.false(error!.message.includes('s3cret'));
  t.regex(error!.message, /tm:\*\*\*@db\.example/);
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x@y/z' }), { message: /must be a SQLite file URL .* or a PostgreSQL URL/ });
  t.throws(() => loadConfig({ DATABASE_URL: 'postgresql://tm@db.example/x', KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), DATABASE_POOL_SIZE: '0' }), { message: /DATABASE_POOL_SIZE/ });
});

pgTest('housekeeping purges expired audit events, replay records and revocations on PostgreSQL too, in batches', async (t) => {
  const db = await node();
  const now = new Date();
  const DAY = 86_400_000;
  await db.auditEvent.createMany({ data: Array.from({ length: 900 }, (_, i) => ({ at: new Date(now.getTime() - 40 * DAY - i), action: 'hk.old', outcome: 'success' })) });
  await db.auditEvent.createMany({ data: [{ at: new Date(now.getTime() - DAY), action: 'hk.recent', outcome: 'success' }] });
  for (let i = 0; i < 5; i++) await recordFirstUse(db, 'https://hk.example', `old-${i}`, new Date(now.getTime() - 10 * 60_000));
  await recordFirstUse(db, 'https://hk.example', 'just-expired', new Date(now.getTime() - 60_000));
  await revokeTokenId(db, { jti: 'hk-expired', clientId: 'hk', expiresAt: new Date(now.getTime() - 1000) });
  const removed = await purgeExpired(db, 30, now, { batchSize: 250, pauseMs: 1 });
  t.is(removed.auditEvents, 900);
  t.is(removed.usedAssertions, 5);
  t.true(removed.revocations >= 1);
  t.is(await db.auditEvent.count({ where: { action: { startsWith: 'hk.' } } }), 1);
  t.deepEqual((await db.usedAssertion.findMany({ where: { issuer: 'https://hk.example' } })).map((r) => r.jti), ['just-expired']);
});

pgTest('revocations become visible in id order across nodes: a second revocation waits for the first one’s transaction to commit', async (t) => {
  const [a, b] = [await node(), await node()];
  let commit!: () => void;
  const held = new Promise<void>((resolve) => (commit = resolve));
  let first!: () => void;
  const inserted = new Promise<void>((resolve) => (first = resolve));
  const expiresAt = new Date(Date.now() + 600_000);
  // other tests of this file write revocations of their own meanwhile
  const ours = async () => (await revocationsAfter(b, 0, 1000)).filter((r) => r.clientId === 'order-a' || r.clientId === 'order-b').map((r) => r.id);
  const slow = a.$transaction(async (tx) => {
    const record = await revokeIssuedBefore(tx, { clientId: 'order-a', issuedBefore: new Date(), expiresAt });
    first();
    await held;
    return record;
  });
  await inserted;
  const fast = revokeTokenId(b, { jti: 'order-b', clientId: 'order-b', expiresAt });
  await new Promise((resolve) => setTimeout(resolve, 500));
  // the second revocation has not drawn an id past an uncommitted one: a poll sees neither yet
  t.deepEqual(await ours(), []);
  commit();
  const [one, two] = await Promise.all([slow, fast]);
  t.true(two!.id > one.id);
  t.deepEqual(await ours(), [one.id, two!.id]);
});

test('a PostgreSQL URL is read with the default schema public, searched by every connection, and statement limits for the serving pools', (t) => {
  const target = postgresTarget('postgresql://tm@db.example:5432/tokenmint');
  t.is(target.schema, 'public');
  t.regex(String(clientConfig(target).options), /-c search_path="public"/);
  t.notRegex(String(clientConfig(target).options), /statement_timeout/);
  const serving = clientConfig(postgresTarget('postgresql://tm@db.example:5432/tokenmint?schema=tm'), {}, true);
  t.regex(String(serving.options), /-c search_path="tm" -c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000/);
  t.true(serving.keepAlive);
  t.is(serving.query_timeout, 35_000);
  t.false(String(serving.connectionString).includes('schema='));
});

test('DATABASE_URL mistakes never echo a password: an unparseable URL, a misspelt scheme, options=', (t) => {
  const kek = Buffer.alloc(32, 7).toString('base64');
  for (const url of ['postgresql://tm:S3CRET@db.example:99999/x', 'postgresql://tm:S3CRET@[bad/x', 'postgress://tm:S3CRET@db.example/x', 'postgresql://tm:S3CRET@db.example/x?options=-c%20search_path%3Dother']) {
    const error = t.throws(() => loadConfig({ DATABASE_URL: url, KEY_ENCRYPTION_KEY: kek }), { instanceOf: ConfigError }, url);
    t.false(error!.message.includes('S3CRET'), error!.message);
    t.regex(error!.message, /^DATABASE_URL: /);
  }
  t.throws(() => loadConfig({ DATABASE_URL: 'postgresql://tm@db.example/x?options=-c%20search_path%3Dother', KEY_ENCRYPTION_KEY: kek }), { message: /options= is not supported/ });
  t.throws(() => loadConfig({ DATABASE_URL: 'FILE:./x.db' }), { instanceOf: ConfigError });
});

test('an unreachable PostgreSQL server is a database error that says so, for clients and for the raw driver', async (t) => {
  const db = await createPrisma({ kind: 'postgresql', url: 'postgresql://postgres@127.0.0.1:1/nothing', poolSize: 1 });
  const error = await t.throwsAsync(db.application.findMany());
  await db.$disconnect();
  t.true(isDatabaseError(error));
  t.true(isUnreachable(error));
  t.is(describeStorageError(error), 'the database server cannot be reached');
  const raw = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:1/nothing' });
  const rawError = await t.throwsAsync(raw.connect());
  t.true(isUnreachable(rawError));
  t.is(describeStorageError(rawError), 'the database server cannot be reached');
});
