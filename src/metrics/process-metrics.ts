// Metrics in this process: a registry of its own, the default process metrics labelled with the
// process they describe, tokenmint's series, and its part in the cluster's scrape.
import cluster from 'node:cluster';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ClusterGather } from './cluster-gather.ts';
import { recordInto } from './recorder.ts';
import { defineSeries } from './series.ts';
import { WORKER_SLOT_VARIABLE } from '../cluster-start.ts';
import { answerPrimary, askPrimary } from './worker-channel.ts';

export interface ProcessMetrics {
  registry: Registry;
  /** the whole process tree's metrics as Prometheus text */
  scrape(): Promise<string>;
}


let enabled: ProcessMetrics | undefined;

/** Switches metrics on in this process; later calls return the same. */
export function enableMetrics(): ProcessMetrics {
  if (enabled) return enabled;
  const registry = new Registry();
  // heap, event-loop lag, GC and the like are per process: summed or averaged they would hide a struggling one
  collectDefaultMetrics({ register: registry, labels: { process: processName() } });
  recordInto(defineSeries(registry));
  if (cluster.isPrimary) {
    const gather = new ClusterGather(registry);
    enabled = { registry, scrape: () => gather.scrape() };
  } else {
    answerPrimary(registry);
    enabled = { registry, scrape: askPrimary };
  }
  return enabled;
}

/** The Prometheus content type of the text `scrape` gives. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** `primary` (also a lone server), or `worker-<n>` for the n-th of WORKERS. */
export function processName(): string {
  return cluster.isPrimary ? 'primary' : `worker-${process.env[WORKER_SLOT_VARIABLE] ?? cluster.worker?.id ?? 0}`;
}
