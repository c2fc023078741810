import type { Db } from './prisma.ts';

/** How long /readyz waits for the database to answer: a server that does not answer in time is not ready. */
const ANSWER_WITHIN_MS = 2000;

export async function databaseReachable(db: Db, withinMs = ANSWER_WITHIN_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), withinMs);
  });
  try {
    return await Promise.race([
      db.$queryRawUnsafe('SELECT 1').then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
