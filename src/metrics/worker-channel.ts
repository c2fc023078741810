// In a worker: answers the primary's requests for its metrics, and asks the primary for the whole
// tree's metrics when a scrape reaches the worker on the main port.
import type { Registry } from 'prom-client';
import { isMessage, type AskScrape, type MetricsAnswer } from './messages.ts';
import { WORKER_WAIT_MS } from './cluster-gather.ts';

/** How long a worker waits for the primary: its wait for the workers, and time to aggregate. */
const PRIMARY_WAIT_MS = WORKER_WAIT_MS + 3000;

export function answerPrimary(registry: Registry): void {
  process.on('message', (message: unknown) => {
    if (!isMessage(message, 'tokenmint:metrics-ask')) return;
    registry.getMetricsAsJSON().then(
      (metrics) => {
        const answer: MetricsAnswer = { type: 'tokenmint:metrics-answer', id: message.id, metrics };
        if (process.connected) process.send?.(answer, undefined, undefined, () => {});
      },
      // no answer: the primary's scrape counts this worker as unanswered
      () => {},
    );
  });
}

const pending = new Map<number, (text: string | null) => void>();
let asked = 0;
let listening = false;

/** The tree's metrics from the primary; rejects when it does not answer in time. */
export function askPrimary(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: unknown) => {
      if (isMessage(message, 'tokenmint:scrape-answer')) pending.get(message.id)?.(message.text);
    });
  }
  const id = ++asked;
  return new Promise((resolve, reject) => {
    const settle = (text: string | null) => {
      clearTimeout(timer);
      pending.delete(id);
      if (text === null) reject(new Error('the primary could not gather the metrics'));
      else resolve(text);
    };
    const timer = setTimeout(() => settle(null), PRIMARY_WAIT_MS);
    pending.set(id, settle);
    const ask: AskScrape = { type: 'tokenmint:scrape-ask', id };
    if (!process.connected || !process.send) return settle(null);
    process.send(ask, undefined, undefined, (error: Error | null) => error && settle(null));
  });
}
