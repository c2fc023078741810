// What a cluster's processes say to each other about metrics, over the cluster's IPC channel.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One metric of a process, as prom-client's getMetricsAsJSON gives it. */
export type MetricJson = MetricObjectWithValues<MetricValue<string> & { metricName?: string }>;

/** primary → worker: send me your metrics */
export interface AskMetrics {
  type: 'tokenmint:metrics-ask';
  id: number;
}

/** worker → primary: mine */
export interface MetricsAnswer {
  type: 'tokenmint:metrics-answer';
  id: number;
  metrics: MetricJson[];
}

/** worker → primary: a scrape reached me on the main port; send me the whole tree's text */
export interface AskScrape {
  type: 'tokenmint:scrape-ask';
  id: number;
}

/** primary → worker: the text, or null when it could not be gathered */
export interface ScrapeAnswer {
  type: 'tokenmint:scrape-answer';
  id: number;
  text: string | null;
}

export type MetricsMessage = AskMetrics | MetricsAnswer | AskScrape | ScrapeAnswer;

export function isMessage<T extends MetricsMessage['type']>(message: unknown, type: T): message is Extract<MetricsMessage, { type: T }> {
  const m = message as { type?: unknown; id?: unknown } | null;
  return typeof m === 'object' && m !== null && m.type === type && typeof m.id === 'number';
}
