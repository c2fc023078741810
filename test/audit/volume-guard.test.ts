import test from 'ava';
import Database from 'better-sqlite3';
import { AuditVolumeGuard } from '../../src/audit/volume-guard.ts';
import type { AuditEvent } from '../../src/store/types.ts';
import { basic, createApp, startInstance } from '../helpers/instance.ts';

const T0 = 1_800_000_000_000;

function denied(ip: string, error = 'invalid_client', clientId = 'reports'): AuditEvent {
  return { at: new Date(T0), action: 'token.denied', outcome: 'failure', clientId, subject: null, reason: 'secret does not match', ip, details: { error } };
}

function sink() {
  const events: AuditEvent[] = [];
  return { events, audit: (e: AuditEvent) => void events.push(e) };
}

test('issued tokens are always recorded one by one', (t) => {
  const out = sink();
  const guard = new AuditVolumeGuard(out, { deniedPerSecond: 1, maxAddresses: 1 });
  for (let i = 0; i < 50; i++) guard.record({ ...denied('10.0.0.1'), action: 'token.issued', outcome: 'success' }, false, T0);
  t.is(out.events.length, 50);
});

test('throttled requests become one summary per address and minute, with a count', (t) => {
  const out = sink();
  const guard = new AuditVolumeGuard(out, { deniedPerSecond: 100, maxAddresses: 10 });
  for (let i = 0; i < 500; i++) guard.record(denied('10.0.0.1', 'slow_down'), true, T0 + i);
  guard.record(denied('10.0.0.2', 'slow_down'), true, T0);
  guard.sweep(T0 + 59_000);
  t.is(out.events.length, 0, 'nothing before the minute is over');
  guard.sweep(T0 + 60_000);
  t.is(out.events.length, 2);
  const summary = out.events.find((e) => e.ip === '10.0.0.1')!;
  t.like(summary, { action: 'token.throttled', outcome: 'failure', reason: '500 requests throttled', clientId: 'reports' });
  t.like(summary.details, { summary: true, count: 500, errors: { slow_down: 500 }, client_ids: ['reports'] });
});

test('summaries keep apart what they summarise: refused token requests, inactive introspections, throttled revocations', (t) => {
  const out = sink();
  const guard = new AuditVolumeGuard(out, { deniedPerSecond: 1, maxAddresses: 10 });
  guard.record(denied('10.0.0.1'), false, T0);
  for (let i = 0; i < 5; i++) guard.record(denied('10.0.0.1'), false, T0);
  for (let i = 0; i < 7; i++) guard.record({ ...denied('10.0.0.1'), action: 'token.introspected', details: { active: false } }, false, T0);
  for (let i = 0; i < 3; i++) guard.record({ ...denied('10.0.0.1', 'slow_down'), action: 'token.revoked' }, true, T0);
  guard.sweep(T0 + 60_000);
  const summaries = out.events.filter((e) => e.details?.summary === true);
  t.like(summaries.find((e) => e.action === 'token.denied'), { details: { count: 5 } });
  t.like(summaries.find((e) => e.action === 'token.introspected'), { details: { count: 7, errors: { unknown: 7 } } });
  t.like(summaries.find((e) => e.action === 'token.throttled'), { details: { count: 3, of: 'token.revoked' } });
  t.is(summaries.length, 3);
});

test('refusals beyond the per-second rate are summarised; within it they are recorded one by one', (t) => {
  const out = sink();
  const guard = new AuditVolumeGuard(out, { deniedPerSecond: 10, maxAddresses: 10 });
  for (let i = 0; i < 100; i++) guard.record(denied('10.0.0.1'), false, T0);
  t.is(out.events.length, 10);
  guard.close();
  t.is(out.events.length, 11);
  t.like(out.events[10], { action: 'token.denied', reason: '90 refused requests summarised', ip: '10.0.0.1' });
  t.like(out.events[10]!.details, { count: 90, errors: { invalid_client: 90 } });
  // the rate refills
  guard.record(denied('10.0.0.1'), false, T0 + 1000);
  t.is(out.events.length, 12);
  t.is(out.events[11]!.reason, 'secret does not match');
});

test('however many addresses an attack comes from, the summaries per minute are bounded and every request is counted', (t) => {
  const out = sink();
  const guard = new AuditVolumeGuard(out, { deniedPerSecond: 5, maxAddresses: 20 });
  for (let i = 0; i < 10_000; i++) guard.record(denied(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), i % 2 === 0, T0);
  guard.close();
  // 5 one by one, 20 + 1 summaries per kind
  t.true(out.events.length <= 5 + 2 * 21, String(out.events.length));
  const counted = out.events.reduce((n, e) => n + (e.details?.summary ? (e.details.count as number) : 1), 0);
  t.is(counted, 10_000);
  t.true(out.events.some((e) => e.details?.summary && e.ip === null && e.details.addresses === 'several'));
});

test('over HTTP: one address refused 40 times past its throttle writes 2 rows of denials and one summary, not 40 rows', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '2', AUDIT_DENIED_PER_SECOND: '1000' });
  try {
    const secret = await createApp(instance, 'reports');
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('reports', `${secret.slice(0, -2)}zz`) })).status);
    t.deepEqual(statuses.filter((s) => s === 401).length, 2);
    t.deepEqual(statuses.filter((s) => s === 429).length, 38);
    instance.serving.deps.auditGuard.close();
    await instance.serving.deps.writer.flush();
    const sqlite = new Database(instance.config.databaseFile, { readonly: true });
    const rows = sqlite.prepare("SELECT action, reason, details FROM audit_events WHERE action LIKE 'token.%'").all() as { action: string; reason: string; details: string }[];
    sqlite.close();
    t.is(rows.length, 3, JSON.stringify(rows));
    const summary = rows.find((r) => r.action === 'token.throttled')!;
    t.is(summary.reason, '38 requests throttled');
    t.like(JSON.parse(summary.details), { count: 38, client_ids: ['reports'] });
  } finally {
    await instance.close();
  }
});
