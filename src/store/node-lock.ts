import type { DatabaseConfig } from '../config.ts';
import { postgresTarget } from './postgres-url.ts';
import { withPostgresSession } from './postgres-session.ts';

/**
 * Advisory locks of the jobs one node at a time runs, each the pair (job, schema): deployments in
 * other schemas of the same database run theirs independently. (Prisma Migrate's lock is 72707369.)
 */
export const JOB_LOCKS = {
  housekeeping: 727_073_691,
  keyLifecycle: 727_073_692,
} as const;

/** A stable signed 32-bit number for a schema name (FNV-1a), the second half of a job's lock. */
export function schemaLockKey(schema: string | undefined): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(schema ?? 'public', 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

/**
 * Runs `work` unless another node is running the same job: on PostgreSQL the job's advisory lock is
 * taken, without waiting, on a connection of its own and held for the run (the server lets go of it
 * if this process dies); undefined when another node held it. On SQLite there is one machine, whose
 * primary process alone runs jobs: `work` just runs.
 */
export async function runAlone<T>(database: DatabaseConfig, key: number, work: () => Promise<T>): Promise<T | undefined> {
  if (database.kind === 'sqlite') return work();
  const target = postgresTarget(database.url);
  // ending the session releases the lock
  return withPostgresSession(target, async (client) => {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', [key, schemaLockKey(target.schema)]);
    return rows[0]!.locked ? await work() : undefined;
  });
}
