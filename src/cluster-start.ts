import cluster, { type Worker } from 'node:cluster';

/**
 * Set by the primary when it forks a worker: the worker's slot (1..WORKERS), under whose name its
 * metrics appear; a replacement takes its predecessor's.
 */
export const WORKER_SLOT_VARIABLE = 'TOKENMINT_WORKER';

// The workers are forked as the primary starts, and load their code while it prepares the database
// (checks, migrates, makes a first key) on the other core. Before opening the database a worker
// asks whether it is prepared, and waits for the answer: asking, rather than being told, means no
// answer can arrive before the worker listens for it.
const ASK = 'tokenmint:prepared?';
const PREPARED = 'tokenmint:prepared';

/** In the primary: answers the workers that ask once `prepared()` is called, and at once after that. */
export function answerWhenPrepared(): { prepared(): void } {
  let done = false;
  const asking = new Set<Worker>();
  const answer = (worker: Worker) => {
    try {
      worker.send(PREPARED);
    } catch {
      // a worker that is gone needs no answer; its exit is handled as any worker's
    }
  };
  cluster.on('message', (worker, message) => {
    if (message !== ASK) return;
    if (done) answer(worker);
    else asking.add(worker);
  });
  return {
    prepared() {
      done = true;
      for (const worker of asking) answer(worker);
      asking.clear();
    },
  };
}

/** In a worker: resolves once the primary says the database is prepared. */
export function untilPrepared(): Promise<void> {
  return new Promise((resolve) => {
    const listen = (message: unknown) => {
      if (message !== PREPARED) return;
      process.off('message', listen);
      resolve();
    };
    process.on('message', listen);
    process.send!(ASK);
  });
}
