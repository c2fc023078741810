import test from 'ava';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RetiredCounters } from '../../src/metrics/retired-counters.ts';
import type { MetricJson } from '../../src/metrics/messages.ts';

/** A worker's metrics as it would send them: a labelled counter, a histogram and a gauge. */
async function workerSnapshot(requests: number, seconds: number[], heap: number): Promise<MetricJson[]> {
  const registry = new Registry();
  const counter = new Counter({ name: 'requests_total', help: 'h', labelNames: ['outcome'], registers: [registry] });
  const histogram = new Histogram({ name: 'duration_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
  const gauge = new Gauge({ name: 'heap_bytes', help: 'h', registers: [registry] });
  counter.inc({ outcome: 'issued' }, requests);
  for (const s of seconds) histogram.observe(s);
  gauge.set(heap);
  return (await registry.getMetricsAsJSON()) as MetricJson[];
}

test('the counters and histograms of exited workers add up; their gauges are left out', async (t) => {
  const retired = new RetiredCounters();
  retired.add(await workerSnapshot(5, [0.05, 0.5], 100));
  retired.add(await workerSnapshot(7, [2], 200));
  const text = await AggregatorRegistry.aggregate([retired.snapshot()]).metrics();
  t.regex(text, /^requests_total\{outcome="issued"\} 12$/m);
  t.regex(text, /^duration_seconds_bucket\{le="0.1"\} 1$/m);
  t.regex(text, /^duration_seconds_bucket\{le="1"\} 2$/m);
  t.regex(text, /^duration_seconds_bucket\{le="\+Inf"\} 3$/m);
  t.regex(text, /^duration_seconds_count 3$/m);
  t.regex(text, /^duration_seconds_sum 2.55$/m);
  t.notRegex(text, /heap_bytes/);
});

test('summed with a live worker, a cluster\'s counter never goes down when a worker is replaced', async (t) => {
  const retired = new RetiredCounters();
  const before = await AggregatorRegistry.aggregate([await workerSnapshot(5, [], 1), await workerSnapshot(3, [], 1)]).metrics();
  t.regex(before, /^requests_total\{outcome="issued"\} 8$/m);
  // the second worker exits; its replacement has counted 1 so far
  retired.add(await workerSnapshot(3, [], 1));
  const after = await AggregatorRegistry.aggregate([await workerSnapshot(5, [], 1), retired.snapshot(), await workerSnapshot(1, [], 1)]).metrics();
  t.regex(after, /^requests_total\{outcome="issued"\} 9$/m);
});
