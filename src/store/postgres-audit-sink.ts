import pg from 'pg';
import type { AuditEvent } from './types.ts';
import { clientConfig, POSTGRES_CONNECT_TIMEOUT_MS, postgresTarget } from './postgres-url.ts';

// One statement per batch, whatever its size: the rows travel as one array per column.
const INSERT_AUDIT_EVENTS = `INSERT INTO "audit_events" ("at", "action", "outcome", "client_id", "subject", "reason", "ip", "details")
SELECT e.at AT TIME ZONE 'UTC', e.action, e.outcome, e.client_id, e.subject, e.reason, e.ip, e.details
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  AS e(at, action, outcome, client_id, subject, reason, ip, details)`;

const TOUCH_APP_PASSWORDS = `UPDATE "app_passwords" AS p SET "last_used_at" = u.at AT TIME ZONE 'UTC'
FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE p."id" = u.id`;

/**
 * Where the background writer's batches go on PostgreSQL: a connection of their own (the server
 * does the work; the event loop only sends one statement per batch). A batch's rows are committed
 * together or not at all; a failure rejects with the driver's error, and the next batch opens a new
 * connection if the old one broke.
 */
export class PostgresAuditSink {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool(clientConfig(postgresTarget(url), { max: 1, connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS, idleTimeoutMillis: 30_000 }, true));
    // an idle connection the server closed: the pool drops it and the next batch opens another
    this.pool.on('error', () => {});
  }

  async insertAuditEvents(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const columns: (string | null)[][] = [[], [], [], [], [], [], [], []];
    for (const e of events) {
      columns[0]!.push(e.at.toISOString());
      columns[1]!.push(e.action);
      columns[2]!.push(e.outcome);
      columns[3]!.push(e.clientId ?? null);
      columns[4]!.push(e.subject ?? null);
      columns[5]!.push(e.reason ?? null);
      columns[6]!.push(e.ip ?? null);
      columns[7]!.push(e.details ? JSON.stringify(e.details) : null);
    }
    await this.pool.query(INSERT_AUDIT_EVENTS, columns);
  }

  async touchAppPasswords(uses: Map<string, Date>): Promise<void> {
    if (uses.size === 0) return;
    await this.pool.query(TOUCH_APP_PASSWORDS, [[...uses.keys()], [...uses.values()].map((at) => at.toISOString())]);
  }

  /** Runs a statement on the writer's own connection (in tests). */
  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
