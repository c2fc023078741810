// Series whose hot path is a few additions on plain numbers. prom-client's own counters and
// histograms build label objects, hash strings and closures on every event; these hand their
// numbers to the registry only when it is scraped.
import { Counter, type Metric, type Registry } from 'prom-client';

type Labels = Record<string, string>;

export interface CounterCell {
  value: number;
}

export interface HistogramCell {
  /** observations per bucket, not cumulated; the last is beyond the highest bound */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A counter series; `cell` gives the one cell of a label set, to be incremented directly. */
export class CellCounter {
  private readonly cells = new Map<string, CounterCell & { labels: Labels; reported: number }>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: readonly string[] = []) {
    const cells = this.cells;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const cell of cells.values()) {
          const delta = cell.value - cell.reported;
          if (delta > 0) this.inc(cell.labels, delta);
          cell.reported = cell.value;
        }
      },
    });
  }

  cell(...values: string[]): CounterCell {
    const key = values.join('\u0000');
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = { labels: labelsOf(this.labelNames, values), value: 0, reported: 0 }));
    return cell;
  }
}

/** A histogram series in prom-client's metric protocol (name, type, get). */
export class CellHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCell & { labels: Labels }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  cell(...values: string[]): HistogramCell {
    const key = values.join('\u0000');
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = { labels: labelsOf(this.labelNames, values), counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }));
    return cell;
  }

  observe(cell: HistogramCell, value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    cell.counts[i]!++;
    cell.sum += value;
    cell.count++;
  }

  get() {
    const values = [...this.cells.values()].flatMap(({ labels, counts, sum, count }) => {
      let cumulated = 0;
      const buckets = [...this.bounds, '+Inf' as const].map((le, i) => ({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: (cumulated += counts[i]!) }));
      return [...buckets, { metricName: `${this.name}_sum`, labels, value: sum }, { metricName: `${this.name}_count`, labels, value: count }];
    });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

function labelsOf(names: readonly string[], values: string[]): Labels {
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}
