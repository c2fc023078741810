import type { DatabaseConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { runAlone } from './node-lock.ts';
import { createPrisma, type Db } from './prisma.ts';

export interface PeriodicJob {
  stop(): Promise<void>;
}

/**
 * Runs `job` now and every `everyMs` on a connection of its own, one run at a time (a slow run
 * delays the next, never overlaps it), and on PostgreSQL on one node at a time: a turn another node
 * is running under the job's lock (`lock`) is skipped here. A failure is logged with `failure` and
 * the job runs again at its next turn. `stop` waits for a run in progress and closes the connection.
 */
export function runPeriodically(database: DatabaseConfig, lock: number, everyMs: number, log: Logger, failure: string, job: (db: Db) => Promise<void>): PeriodicJob {
  // made by the first run; one that could not be made is tried again by the next
  let opened: Promise<Db> | undefined;
  const client = () => (opened ??= createPrisma(database, undefined, 2).catch((error: unknown) => {
    opened = undefined;
    throw error;
  }));
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(async () => {
      try {
        const db = await client();
        await runAlone(database, lock, () => job(db));
      } catch (error) {
        log.error({ err: error }, failure);
      }
    });
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await (await opened?.catch(() => undefined))?.$disconnect();
    },
  };
}
