import test from 'ava';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from '../../src/metrics/cells.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED = [0.0004, 0.001, 0.003, 0.05, 0.05, 0.7, 3, 12];

test('a cell histogram reads exactly as prom-client\'s histogram of the same observations', async (t) => {
  const ours = new Registry();
  const theirs = new Registry();
  const cells = new CellHistogram(ours, 'latency_seconds', 'help', ['grant_type', 'result'], BOUNDS);
  const reference = new Histogram({ name: 'latency_seconds', help: 'help', labelNames: ['grant_type', 'result'], buckets: BOUNDS, registers: [theirs] });
  const issued = cells.cell('client_credentials', 'issued');
  const refused = cells.cell('client_credentials', 'refused');
  t.is(cells.cell('client_credentials', 'issued'), issued, 'one cell per label set');
  for (const value of OBSERVED) {
    cells.observe(issued, value);
    reference.observe({ grant_type: 'client_credentials', result: 'issued' }, value);
  }
  cells.observe(refused, 0.2);
  reference.observe({ grant_type: 'client_credentials', result: 'refused' }, 0.2);
  t.is(await ours.metrics(), await theirs.metrics());
  // as a worker hands them to the primary
  const aggregated = async (registry: Registry) => AggregatorRegistry.aggregate([JSON.parse(JSON.stringify(await registry.getMetricsAsJSON()))]).metrics();
  t.is(await aggregated(ours), await aggregated(theirs));
});

test('a cell counter reads as prom-client\'s counter, and a count is handed over once however often it is scraped', async (t) => {
  const ours = new Registry();
  const theirs = new Registry();
  const counter = new CellCounter(ours, 'requests_total', 'help', ['outcome']);
  const reference = new Counter({ name: 'requests_total', help: 'help', labelNames: ['outcome'], registers: [theirs] });
  const plain = new CellCounter(ours, 'plain_total', 'help');
  new Counter({ name: 'plain_total', help: 'help', registers: [theirs] });
  t.is(await ours.metrics(), await theirs.metrics(), 'before anything is counted');
  const issued = counter.cell('issued');
  t.is(counter.cell('issued'), issued);
  issued.value += 3;
  counter.cell('invalid_client').value++;
  plain.cell().value++;
  reference.inc({ outcome: 'issued' }, 3);
  reference.inc({ outcome: 'invalid_client' });
  (theirs.getSingleMetric('plain_total') as Counter).inc();
  t.is(await ours.metrics(), await theirs.metrics());
  t.is(await ours.metrics(), await theirs.metrics(), 'scraped again');
  issued.value++;
  reference.inc({ outcome: 'issued' });
  t.is(await ours.metrics(), await theirs.metrics());
});
