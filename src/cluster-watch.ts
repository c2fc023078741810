import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger.ts';

const PING = 'tokenmint:ping';
const PONG = 'tokenmint:pong';

/**
 * The primary pings every serving worker over its channel every `everyMs`; a worker that has not
 * answered for `silenceMs` (its event loop is stuck, so it takes no connection the primary hands
 * it) is killed, and the cluster's exit handler starts another.
 */
export function watchWorkers(log: Logger, isServing: (worker: Worker) => boolean, everyMs = 2000, silenceMs = 10_000): () => void {
  const lastSeen = new Map<number, number>();
  const onMessage = (worker: Worker, message: unknown) => {
    if (message === PONG) lastSeen.set(worker.id, Date.now());
  };
  cluster.on('message', onMessage);
  const timer = setInterval(() => {
    const now = Date.now();
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker || !isServing(worker)) continue;
      if (!lastSeen.has(worker.id)) lastSeen.set(worker.id, now);
      const silent = now - lastSeen.get(worker.id)!;
      if (silent > silenceMs) {
        log.error({ worker: worker.process.pid, silent_ms: silent }, 'a worker stopped answering its primary; replacing it');
        lastSeen.delete(worker.id);
        worker.process.kill('SIGKILL');
        continue;
      }
      try {
        worker.send(PING);
      } catch {
        // a broken channel shows as silence
      }
    }
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    cluster.off('message', onMessage);
  };
}

/** In a worker: answer the primary's pings. */
export function answerPings(): void {
  process.on('message', (message) => {
    if (message === PING) process.send?.(PONG);
  });
}
