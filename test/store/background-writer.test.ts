import test from 'ava';
import Database from 'better-sqlite3';
import { basic, capturingLogger, createApp, startInstance, untilPropagated, type Instance } from '../helpers/instance.ts';

interface Readiness {
  status: string;
  checks: Record<string, boolean>;
  problems?: string[];
}

async function readiness(instance: Instance): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${instance.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

function issuedRows(instance: Instance, clientId: string): number {
  const sqlite = new Database(instance.config.databaseFile, { readonly: true });
  try {
    return (sqlite.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'token.issued' AND client_id = ?").get(clientId) as { n: number }).n;
  } finally {
    sqlite.close();
  }
}

test('a full database: tokens keep flowing, writing backs off instead of running per request, /readyz says why, and nothing queued is lost', async (t) => {
  const { log, text } = capturingLogger();
  const instance = await startInstance({}, { log, deps: { writer: { minBackoffMs: 200, maxBackoffMs: 400 } } });
  try {
    const secret = await createApp(instance, 'full');
    const { db, writer, auditSink } = instance.serving.deps;
    t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('full', secret) })).status, 200);
    await writer.flush();
    const pages = (await db.$queryRawUnsafe<{ page_count: bigint }[]>('PRAGMA page_count'))[0]!.page_count;
    // the writer's connection may not grow the file: as good as a full disk
    await auditSink.exec(`PRAGMA max_page_count = ${Number(pages)}`);

    let issued = 1;
    for (let round = 0; round < 12; round++) {
      const statuses = await Promise.all(Array.from({ length: 100 }, () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('full', secret) }).then((r) => r.status)));
      t.deepEqual([...new Set(statuses)], [200]);
      issued += statuses.length;
    }
    const failing = await untilPropagated(() => readiness(instance), (r) => r.status === 503, 3000);
    t.is(failing.status, 503);
    t.false(failing.body.checks.audit_writes);
    t.regex(failing.body.problems!.join('\n'), /audit events cannot be written since .* queued\): the database or its disk is full/);
    // one line when writing starts failing, not one per request or per attempt
    t.is(text().split('\n').filter((l) => l.includes('writing audit events')).length, 1);

    await auditSink.exec('PRAGMA max_page_count = 1073741823');
    const recovered = await untilPropagated(() => readiness(instance), (r) => r.status === 200, 5000);
    t.is(recovered.status, 200);
    t.regex(text(), /audit events are written again/);
    await writer.flush();
    t.is(issuedRows(instance, 'full'), issued);
  } finally {
    await instance.close();
  }
});

test('a connection that cannot write (opened read-only) is reopened; /readyz is not ready meanwhile, and the queued events are written after', async (t) => {
  const { log, text } = capturingLogger();
  const instance = await startInstance({}, { log, deps: { writer: { minBackoffMs: 1000, maxBackoffMs: 1000 } } });
  try {
    const secret = await createApp(instance, 'readonly');
    // what a connection to a file it could not open for writing does: refuse every write
    await instance.serving.deps.auditSink.exec('PRAGMA query_only = 1');
    for (let i = 0; i < 5; i++) t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('readonly', secret) })).status, 200);
    const failing = await untilPropagated(() => readiness(instance), (r) => r.status === 503, 3000);
    t.is(failing.status, 503);
    t.regex(failing.body.problems!.join('\n'), /the database is read-only/);
    const recovered = await untilPropagated(() => readiness(instance), (r) => r.status === 200, 5000);
    t.is(recovered.status, 200);
    t.regex(text(), /the database is read-only: reopening the database connection/);
    await instance.serving.deps.writer.flush();
    t.is(issuedRows(instance, 'readonly'), 5);
  } finally {
    await instance.close();
  }
});
