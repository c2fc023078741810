// In the primary: one scrape of the whole process tree. Every connected worker is asked for its
// metrics over the cluster channel; what arrives within the wait is summed with the primary's own
// (and the counters of workers that exited). A worker that does not answer in time (busy, stopped,
// dying) never holds the scrape: its last answer stands in for it, and
// tokenmint_metrics_workers_unanswered says how many did not answer.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, type Registry } from 'prom-client';
import { isMessage, type AskMetrics, type MetricJson, type ScrapeAnswer } from './messages.ts';
import { RetiredCounters } from './retired-counters.ts';

/** How long a scrape waits for the workers: well inside Prometheus's default scrape timeout (10 s). */
export const WORKER_WAIT_MS = 2000;

interface Round {
  id: number;
  waiting: Set<number>;
  finish(): void;
}

export class ClusterGather {
  private readonly latest = new Map<number, MetricJson[]>();
  private readonly retired = new RetiredCounters();
  private readonly answered = new Set<number>();
  private readonly unanswered: Gauge;
  private round: Round | undefined;
  private rounds = 0;
  private inflight: Promise<string> | undefined;

  constructor(
    private readonly own: Registry,
    private readonly waitMs = WORKER_WAIT_MS,
  ) {
    this.unanswered = new Gauge({
      name: 'tokenmint_metrics_workers_unanswered',
      help: 'Workers that did not answer this scrape in time; their last answer stands in for them',
      registers: [own],
    });
    cluster.on('message', (worker, message) => this.onMessage(worker, message));
    cluster.on('exit', (worker) => this.onExit(worker));
  }

  /** The tree's metrics as Prometheus text; concurrent scrapes share one gathering. */
  scrape(): Promise<string> {
    this.inflight ??= this.gather().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async gather(): Promise<string> {
    await this.askWorkers();
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    this.unanswered.set(live.filter((w) => !this.answered.has(w.id)).length);
    const parts = [await this.own.getMetricsAsJSON(), this.retired.snapshot(), ...this.latest.values()];
    return AggregatorRegistry.aggregate(parts.map(keepPerProcess)).metrics();
  }

  private askWorkers(): Promise<void> {
    this.answered.clear();
    const id = ++this.rounds;
    const waiting = new Set<number>();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        if (this.round?.id === id) this.round = undefined;
        resolve();
      };
      const timer = setTimeout(finish, this.waitMs);
      this.round = { id, waiting, finish };
      const ask: AskMetrics = { type: 'tokenmint:metrics-ask', id };
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (!worker?.isConnected()) continue;
        waiting.add(worker.id);
        // a channel that broke meanwhile counts as no answer
        worker.send(ask, (error: Error | null) => error && this.settle(id, worker.id));
      }
      if (waiting.size === 0) finish();
    });
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (isMessage(message, 'tokenmint:metrics-answer')) {
      this.latest.set(worker.id, message.metrics);
      if (message.id === this.round?.id) this.answered.add(worker.id);
      this.settle(message.id, worker.id);
    } else if (isMessage(message, 'tokenmint:scrape-ask')) {
      const reply = (text: string | null) => {
        const answer: ScrapeAnswer = { type: 'tokenmint:scrape-answer', id: message.id, text };
        if (worker.isConnected()) worker.send(answer, () => {});
      };
      this.scrape().then(reply, () => reply(null));
    }
  }

  private onExit(worker: Worker): void {
    const last = this.latest.get(worker.id);
    if (last) this.retired.add(last);
    this.latest.delete(worker.id);
    if (this.round) this.settle(this.round.id, worker.id);
  }

  private settle(id: number, workerId: number): void {
    const round = this.round;
    if (round?.id !== id) return;
    round.waiting.delete(workerId);
    if (round.waiting.size === 0) round.finish();
  }
}

/**
 * prom-client leaves out metrics whose aggregator is `omit` (process_start_time_seconds); here every
 * process's default metrics carry a `process` label of their own, so each value stands alone.
 */
function keepPerProcess(metrics: MetricJson[]): MetricJson[] {
  return metrics.map((m) => (m.aggregator === 'omit' ? { ...m, aggregator: 'first' } : m));
}
