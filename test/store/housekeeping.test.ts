import test from 'ava';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { purgeExpired } from '../../src/store/housekeeping.ts';
import { createPrisma } from '../../src/store/prisma.ts';
import { recordFirstUse } from '../../src/store/replay.ts';
import { revokeTokenId } from '../../src/store/revocations.ts';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';
import { runAdminCli } from '../../src/admin/cli.ts';

const DAY = 86_400_000;

test('expired audit events, replay records and revocations are purged in batches; recent ones stay', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  const db = await createPrisma(config.databaseFile);
  try {
    const now = new Date();
    const event = (at: Date) => ({ at, action: 'token.issued', outcome: 'success' });
    await db.auditEvent.createMany({ data: Array.from({ length: 2500 }, (_, i) => event(new Date(now.getTime() - 40 * DAY - i))) });
    await db.auditEvent.createMany({ data: Array.from({ length: 5 }, () => event(new Date(now.getTime() - DAY))) });
    for (let i = 0; i < 30; i++) await recordFirstUse(db, 'https://ci.example', `old-${i}`, new Date(now.getTime() - 10 * 60_000));
    await recordFirstUse(db, 'https://ci.example', 'live', new Date(now.getTime() + 60_000));
    // expired a minute ago: kept a while longer, for nodes whose clocks are behind
    await recordFirstUse(db, 'https://ci.example', 'just-expired', new Date(now.getTime() - 60_000));
    for (let i = 0; i < 7; i++) await revokeTokenId(db, { jti: `expired-token-${i}`, clientId: 'billing', expiresAt: new Date(now.getTime() - 1000) });
    await revokeTokenId(db, { jti: 'live-token-0', clientId: 'billing', expiresAt: new Date(now.getTime() + 60_000) });

    const removed = await purgeExpired(db, 30, now, { batchSize: 400, pauseMs: 1 });
    t.deepEqual(removed, { auditEvents: 2500, usedAssertions: 30, revocations: 7 });
    t.is(await db.auditEvent.count({ where: { action: 'token.issued' } }), 5);
    t.deepEqual((await db.usedAssertion.findMany({ orderBy: { jti: 'asc' } })).map((r) => r.jti), ['just-expired', 'live']);
    t.deepEqual((await db.tokenRevocation.findMany()).map((r) => r.jti), ['live-token-0']);
  } finally {
    await db.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an admin command that finds the database locked for too long fails with one clear line, never a stack trace', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  t.is((await runAdmin(config, ['app', 'create', 'first', '--audiences', 'https://api.example'])).code, 0);
  const holder = new Database(config.databaseFile);
  holder.exec('BEGIN IMMEDIATE');
  try {
    let stderr = '';
    const code = await runAdminCli(['app', 'create', 'second', '--audiences', 'https://api.example'], config, { write: () => {} }, { write: (s) => void (stderr += s) }, { busyTimeoutMs: 300 });
    t.is(code, 1);
    t.is(stderr.split('\n').filter(Boolean).length, 1);
    t.regex(stderr, /^error: the database stayed locked by another process for 0.3 s \(a purge, a migration or another command\); try again\n$/);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reading commands are not held up by a write lock', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  const holder = new Database(config.databaseFile);
  holder.exec('BEGIN IMMEDIATE');
  try {
    let stdout = '';
    const code = await runAdminCli(['app', 'list', '--json'], config, { write: (s) => void (stdout += s) }, { write: () => {} }, { busyTimeoutMs: 300 });
    t.is(code, 0);
    t.deepEqual(JSON.parse(stdout), []);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
