import test from 'ava';
import { rmSync } from 'node:fs';
import { prepareDatabase, tempDir, testConfig } from '../helpers/instance.ts';
import { AuditSink, SinkError } from '../../src/store/audit-sink.ts';
import { listAuditEvents } from '../../src/store/audit.ts';
import { createPrisma } from '../../src/store/prisma.ts';
import { BUSY_TIMEOUT_MS } from '../../src/store/sqlite-file.ts';

async function database() {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  const db = await createPrisma(config.databaseFile);
  const sink = new AuditSink({ file: config.databaseFile, busyTimeoutMs: BUSY_TIMEOUT_MS });
  return {
    db,
    sink,
    async close() {
      await sink.close();
      await db.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('rows written by the thread read back through the store exactly as written', async (t) => {
  const { db, sink, close } = await database();
  try {
    const at = new Date('2026-11-30T12:34:56.789Z');
    await sink.insertAuditEvents([
      { at, action: 'token.issued', outcome: 'success', clientId: 'billing', subject: 'billing', ip: '192.0.2.1', details: { grant_type: 'client_credentials', jti: 'abc', nested: { list: [1, 'two'] } } },
      { at: new Date(at.getTime() + 1), action: 'token.denied', outcome: 'failure', reason: 'secret does not match' },
    ]);
    const [denied, issued] = await listAuditEvents(db, {});
    t.like(issued, { action: 'token.issued', outcome: 'success', clientId: 'billing', subject: 'billing', reason: null, ip: '192.0.2.1' });
    t.is(issued!.at.toISOString(), at.toISOString());
    t.deepEqual(issued!.details, { grant_type: 'client_credentials', jti: 'abc', nested: { list: [1, 'two'] } });
    t.like(denied, { action: 'token.denied', outcome: 'failure', clientId: null, subject: null, reason: 'secret does not match', ip: null, details: null });
    // the time filter compares the stored text as the store's own rows compare
    t.is((await listAuditEvents(db, { since: new Date(at.getTime() + 1) })).length, 1);
  } finally {
    await close();
  }
});

test('a failed write rejects with SQLite\'s code; a connection that cannot write is replaced for the next batch', async (t) => {
  const { db, sink, close } = await database();
  try {
    await sink.exec('PRAGMA query_only = 1');
    const error = await t.throwsAsync(sink.insertAuditEvents([{ at: new Date(), action: 'token.issued', outcome: 'success' }]), { instanceOf: SinkError });
    t.regex(error!.code ?? '', /^SQLITE_READONLY/);
    await sink.insertAuditEvents([{ at: new Date(), action: 'token.issued', outcome: 'success', clientId: 'after' }]);
    t.deepEqual((await listAuditEvents(db, {})).map((e) => e.clientId), ['after']);
  } finally {
    await close();
  }
});

test('after the thread has stopped, the next batch starts a new one', async (t) => {
  const { db, sink, close } = await database();
  try {
    await sink.insertAuditEvents([{ at: new Date(), action: 'token.issued', outcome: 'success', clientId: 'first' }]);
    await sink.close();
    await sink.insertAuditEvents([{ at: new Date(), action: 'token.issued', outcome: 'success', clientId: 'second' }]);
    t.deepEqual((await listAuditEvents(db, {})).map((e) => e.clientId), ['second', 'first']);
  } finally {
    await close();
  }
});
