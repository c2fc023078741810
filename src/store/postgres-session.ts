// A connection of its own for one piece of work outside the serving pools (a migration, a job run
// by one node at a time, a copy): its session-level advisory locks live and end with it.
import type pg from 'pg';
import { MIGRATION_LOCK, withAdvisoryLock } from './migrate-postgres.ts';
import { clientConfig, POSTGRES_CONNECT_TIMEOUT_MS, type PostgresTarget } from './postgres-url.ts';

/**
 * Connects, runs `work` and ends the session, whatever happens. A failure to connect is thrown as
 * `unreachable` makes it (the driver's own error by default).
 */
export async function withPostgresSession<T>(target: PostgresTarget, work: (client: pg.Client) => Promise<T>, unreachable: (error: unknown) => unknown = (error) => error): Promise<T> {
  // the driver is loaded by its first use: a node on SQLite never loads it
  const { Client } = (await import('pg')).default;
  const client = new Client(clientConfig(target, { connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS }));
  // a session that drops fails the query in flight, which is where it is reported
  client.on('error', () => {});
  try {
    try {
      await client.connect();
    } catch (error) {
      throw unreachable(error);
    }
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface MigrationSessionOptions {
  /** how long to wait for another process's migration (withAdvisoryLock) */
  waitMs?: number;
  /** told once when another process holds the lock */
  onWait?: () => void;
  unreachable?: (error: unknown) => unknown;
}

/** Runs `work` in a session of its own holding the migration lock, the one `prisma migrate deploy` takes. */
export function withMigrationSession<T>(target: PostgresTarget, work: (client: pg.Client) => Promise<T>, options: MigrationSessionOptions = {}): Promise<T> {
  return withPostgresSession(target, (client) => withAdvisoryLock(client, MIGRATION_LOCK, () => work(client), options.waitMs, options.onWait), options.unreachable);
}
