import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import { clientConfig, postgresTarget } from './postgres-url.ts';
import { POSTGRES_CONNECT_TIMEOUT_MS } from './prisma.ts';

/** Advisory locks of the jobs that one node at a time runs (Prisma Migrate's own is 72707369). */
export const JOB_LOCKS = {
  housekeeping: 7_270_736_901,
  keyLifecycle: 7_270_736_902,
} as const;

/**
 * Runs `work` unless another node is running the same job: on PostgreSQL the job's advisory lock is
 * taken, without waiting, on a connection of its own and held for the run (the server lets go of it
 * if this process dies); undefined when another node held it. On SQLite there is one machine, whose
 * primary process alone runs jobs: `work` just runs.
 */
export async function runAlone<T>(database: DatabaseConfig, key: number, work: () => Promise<T>): Promise<T | undefined> {
  if (database.kind === 'sqlite') return work();
  const client = new pg.Client(clientConfig(postgresTarget(database.url), { connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS }));
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    if (!rows[0]!.locked) return undefined;
    return await work();
  } finally {
    // ending the session releases the lock
    await client.end().catch(() => {});
  }
}
