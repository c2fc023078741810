import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { JOB_LOCKS } from '../store/node-lock.ts';
import { runPeriodically, type PeriodicJob } from '../store/periodic-job.ts';
import { advanceKeyLifecycle, keySettings } from './lifecycle.ts';

/** How often the schedule looks at the keys (a promotion happens at most this late): every 15 s, more often with a short KEY_PUBLISH_AHEAD. */
function interval(config: Config): number {
  return Math.min(15_000, Math.max(1000, (config.keyPublishAheadSeconds * 1000) / 4));
}

/**
 * Runs the signing-key schedule in one process (the primary): at start and then regularly it removes
 * expired retired keys, promotes a due next key and creates the next key ahead of a rotation.
 */
export function scheduleKeyLifecycle(config: Config, log: Logger, kek: Buffer, clock: () => Date = () => new Date(), everyMs = interval(config)): PeriodicJob {
  const settings = keySettings(config);
  return runPeriodically(config.database, JOB_LOCKS.keyLifecycle, everyMs, log, 'the signing-key schedule failed; it runs again shortly', async (db) => {
    for (const change of await advanceKeyLifecycle(db, kek, settings, clock())) log.info({ kid: change.kid }, change.action);
  });
}
