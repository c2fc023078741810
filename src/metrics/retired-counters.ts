import type { MetricJson } from './messages.ts';

/**
 * The counters of workers that exited, summed, so that a cluster's counters never go down when a
 * worker is replaced: Prometheus would take the drop for a reset and count the whole remainder as
 * new. Gauges of a gone process mean nothing and are not kept.
 */
export class RetiredCounters {
  private readonly metrics = new Map<string, { metric: MetricJson; values: Map<string, MetricJson['values'][number]> }>();

  add(snapshot: MetricJson[]): void {
    for (const metric of snapshot) {
      if (String(metric.type) !== 'counter' && String(metric.type) !== 'histogram') continue;
      let kept = this.metrics.get(metric.name);
      if (!kept) this.metrics.set(metric.name, (kept = { metric: { ...metric, values: [] }, values: new Map() }));
      for (const value of metric.values) {
        const key = `${value.metricName ?? ''} ${labelKey(value.labels)}`;
        const sum = kept.values.get(key);
        if (sum) sum.value += value.value ?? 0;
        else kept.values.set(key, { ...value, labels: { ...value.labels }, value: value.value ?? 0 });
      }
    }
  }

  snapshot(): MetricJson[] {
    return [...this.metrics.values()].map(({ metric, values }) => ({ ...metric, values: [...values.values()] }));
  }
}

function labelKey(labels: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(labels).sort().map((name) => [name, String(labels[name])]));
}
