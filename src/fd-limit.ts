import { readFileSync } from 'node:fs';

/** The process's soft limit of open files (Linux), or undefined where it cannot be read. */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limitsFile, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line ? /^Max open files\s+(\d+|unlimited)/.exec(line)?.[1] : undefined;
    if (soft === undefined) return undefined;
    return soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
  } catch {
    return undefined;
  }
}

/**
 * Connections one process accepts at most: three quarters of its file limit, keeping the rest for
 * the database, logs and the cluster's channel, so that a flood can fill the connection table but
 * never the file table.
 */
export function defaultMaxConnections(fileLimit = openFileLimit()): number {
  if (fileLimit === undefined) return 10_000;
  return Math.min(100_000, Math.max(16, Math.floor(fileLimit * 0.75) - 16));
}
