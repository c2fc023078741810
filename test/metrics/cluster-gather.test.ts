import test from 'ava';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { basic, formBody, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';
import { counterValue, sampleValue, samples } from '../helpers/metrics.ts';
import { freePort, start, waitReady, workerPids, type Started } from '../helpers/process.ts';

// A real cluster (a primary and two workers) scraped while it serves. Like the cluster tests of
// main.test.ts they run one at a time and give the cluster long to start on a busy machine.
const CLUSTER_START_MS = 90_000;

/** One request on a connection of its own: the primary hands new connections to the workers in turn. */
function fresh(port: number, path: string, options: { method?: string; body?: string; authorization?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' };
    if (options.authorization) headers.authorization = options.authorization;
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function startCluster(extra: Record<string, string> = {}): Promise<{ server: Started; port: number; secret: string; dir: string }> {
  const dir = tempDir();
  const port = await freePort();
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: 'https://issuer.example', LOG_LEVEL: 'warn', ...extra };
  const server = start(env);
  if (!(await waitReady(`http://127.0.0.1:${port}`, CLUSTER_START_MS))) throw new Error(`the cluster did not start: ${server.output().stderr}`);
  const created = await runAdmin(testConfig(dir, { ...env, LOG_LEVEL: 'silent' }), ['app', 'create', 'metered', '--secret', '--audiences', 'https://api.example', '--json']);
  if (created.code !== 0) throw new Error(created.stderr);
  // every worker sees the new application within 2 s
  await new Promise((r) => setTimeout(r, 2500));
  return { server, port, secret: created.json<{ client_secret: string }>().client_secret, dir };
}

async function stop({ server, dir }: { server: Started; dir: string }): Promise<void> {
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
  rmSync(dir, { recursive: true, force: true });
}

const issued = (text: string) => counterValue(text, 'tokenmint_token_requests_total', { grant_type: 'client_credentials', auth_method: 'client_secret_basic', outcome: 'issued' });
const processes = (text: string) => samples(text).filter((s) => s.name === 'process_start_time_seconds').map((s) => s.labels.process).sort();

async function tokens(port: number, secret: string, n: number): Promise<number[]> {
  const sent: number[] = [];
  for (let i = 0; i < n; i++) sent.push((await fresh(port, '/token', { method: 'POST', body: formBody({ grant_type: 'client_credentials' }), authorization: basic('metered', secret) })).status);
  return sent;
}

test.serial('on the main port, whichever worker is scraped shows the whole tree: the primary, both workers, and every request either worker served', async (t) => {
  const cluster = await startCluster();
  const { port, secret } = cluster;
  try {
    t.deepEqual(await tokens(port, secret, 20), Array(20).fill(200));
    // successive scrapes land on one worker and then the other; each shows the sum
    for (let i = 0; i < 4; i++) {
      const scraped = await fresh(port, '/metrics');
      t.is(scraped.status, 200, scraped.body);
      t.is(issued(scraped.body), 20);
      t.deepEqual(processes(scraped.body), ['primary', 'worker-1', 'worker-2']);
      t.is(sampleValue(scraped.body, 'tokenmint_metrics_workers_unanswered'), 0);
    }
  } finally {
    await stop(cluster);
  }
});

test.serial('with METRICS_PORT the primary serves /metrics there only; a stopped worker does not hold a scrape, and a killed one keeps its counts', async (t) => {
  const metricsPort = await freePort();
  const cluster = await startCluster({ METRICS_PORT: String(metricsPort) });
  const { server, port, secret } = cluster;
  try {
    t.is((await fresh(port, '/metrics')).status, 404);
    t.is((await fresh(port, '/metrics')).status, 404, 'at either worker');
    t.is((await fresh(metricsPort, '/token')).status, 404, 'the metrics port serves nothing else');
    t.deepEqual(await tokens(port, secret, 10), Array(10).fill(200));
    const scrape = async () => {
      const scraped = await fresh(metricsPort, '/metrics');
      t.is(scraped.status, 200, scraped.body);
      return scraped.body;
    };
    const all = await scrape();
    t.is(issued(all), 10);
    t.deepEqual(processes(all), ['primary', 'worker-1', 'worker-2']);

    const [stopped] = workerPids(server.child.pid!);
    process.kill(stopped!, 'SIGSTOP');
    const withoutOne = await scrape();
    t.is(sampleValue(withoutOne, 'tokenmint_metrics_workers_unanswered'), 1);
    t.is(issued(withoutOne), 10, 'the silent worker\'s last answer stands in for it');

    // killed while a scrape waits for it
    const waiting = scrape();
    process.kill(stopped!, 'SIGKILL');
    t.is(issued(await waiting), 10);
    t.is(issued(await scrape()), 10, 'the counts of a worker that exited are kept');

    // its replacement takes its place and name, and counts on from there
    const replaced = await waitForScrape(scrape, (text) => sampleValue(text, 'tokenmint_metrics_workers_unanswered') === 0 && processes(text).length === 3);
    t.deepEqual(processes(replaced), ['primary', 'worker-1', 'worker-2']);
    t.deepEqual(await tokens(port, secret, 6), Array(6).fill(200));
    t.is(issued(await scrape()), 16);
  } finally {
    await stop(cluster);
  }
});

async function waitForScrape(scrape: () => Promise<string>, accept: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + CLUSTER_START_MS;
  for (;;) {
    const text = await scrape();
    if (accept(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 500));
  }
}
