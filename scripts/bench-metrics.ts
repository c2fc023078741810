// The cost of metrics: client_credentials against two servers alike but for METRICS, each on a
// temporary database of its own, driven in turns (on, off, off, on, ...) so that a machine
// warming up or busy with something else weighs on both alike.
import autocannon from 'autocannon';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdminCli } from '../src/admin/cli.ts';
import { loadConfig } from '../src/config.ts';
import { startBuiltServer } from './bench-server.ts';

const ROUNDS = 4;

interface BenchServer {
  url: string;
  authorization: string;
  /** CPU seconds the server's processes have used so far (Linux; undefined elsewhere) */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

const TICKS_PER_SECOND = 100;

/** utime + stime of a process and its children, from /proc: throughput on a shared machine says more about the neighbours. */
function processTreeCpuSeconds(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/stat`)) return undefined;
  const ticks = (p: number) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  const children = (p: number) => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  return [pid, ...children(pid)].reduce((n, p) => n + ticks(p), 0) / TICKS_PER_SECOND;
}

async function startServer(port: number, metrics: boolean): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-bench-metrics-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${join(dir, 'bench.db')}`, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_FAILURES_PER_MINUTE: '0', METRICS: String(metrics) };
  delete env.METRICS_PORT;
  const server = await startBuiltServer(env);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url);
    let out = '';
    const code = await runAdminCli(['app', 'create', 'bench', '--secret', '--audiences', 'https://api.example', '--json'], loadConfig({ ...env, LOG_LEVEL: 'silent' }), { write: (t) => void (out += t) }, process.stderr);
    if (code !== 0) throw new Error('creating the bench application failed');
    const secret = (JSON.parse(out) as { client_secret: string }).client_secret;
    return { url, authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`, cpuSeconds: () => processTreeCpuSeconds(server.pid!), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

function drive(server: BenchServer, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${server.url}/token`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: server.authorization },
    body: 'grant_type=client_credentials',
  });
}

interface Side {
  title: string;
  server: BenchServer;
  results: autocannon.Result[];
  /** CPU seconds used during the turns */
  cpu: number;
}

async function turn(side: Side, connections: number, seconds: number): Promise<void> {
  const cpuBefore = side.server.cpuSeconds();
  side.results.push(await drive(side.server, connections, seconds));
  const cpuAfter = side.server.cpuSeconds();
  if (cpuBefore !== undefined && cpuAfter !== undefined) side.cpu += cpuAfter - cpuBefore;
}

function summary({ title, results, cpu }: Side): { title: string; rate: number; p50: number; p99: number; unexpected: number; cpuPerToken: number } {
  const mean = (f: (r: autocannon.Result) => number) => results.reduce((n, r) => n + f(r), 0) / results.length;
  const unexpected = results.reduce((n, r) => n + r.errors + r.non2xx, 0);
  const tokens = results.reduce((n, r) => n + r['2xx'], 0);
  return { title, rate: mean((r) => r.requests.average), p50: mean((r) => r.latency.p50), p99: mean((r) => r.latency.p99), unexpected, cpuPerToken: cpu / tokens };
}

/** Runs the pair and prints each side and the cost of metrics in % of throughput. */
export async function benchMetricsCost(options: { port: number; connections: number; seconds: number }): Promise<void> {
  const on: Side = { title: 'client_credentials, metrics on', server: await startServer(options.port, true), results: [], cpu: 0 };
  let off: Side | undefined;
  try {
    off = { title: 'client_credentials, metrics off', server: await startServer(options.port + 1, false), results: [], cpu: 0 };
    await new Promise((r) => setTimeout(r, 1000));
    // warm-up: JIT, caches and the secret's first argon2 verification
    for (const side of [on, off]) await drive(side.server, 4, 2);
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? [on, off] : [off, on]) await turn(side, options.connections, options.seconds);
    }
    const [withMetrics, without] = [summary(on), summary(off)];
    const cpu = (s: typeof withMetrics) => (Number.isFinite(s.cpuPerToken) && s.cpuPerToken > 0 ? `   CPU ${(s.cpuPerToken * 1e6).toFixed(0)} µs/token` : '');
    for (const s of [withMetrics, without]) {
      console.log(`${s.title.padEnd(44)} ${s.rate.toFixed(0).padStart(7)} req/s   p50 ${s.p50.toFixed(0).padStart(4)} ms   p99 ${s.p99.toFixed(0).padStart(4)} ms   unexpected ${s.unexpected}${cpu(s)}`);
    }
    const turns = (side: Side) => side.results.map((r) => r.requests.average.toFixed(0)).join(' ');
    console.log(`  metrics cost ${percent(without.rate - withMetrics.rate, without.rate)} of throughput (req/s per turn, on: ${turns(on)}; off: ${turns(off)}), target under 3 %`);
    if (cpu(withMetrics) && cpu(without)) console.log(`  metrics cost ${percent(withMetrics.cpuPerToken - without.cpuPerToken, without.cpuPerToken)} of CPU per token (less sensitive to other load on the machine)`);
  } finally {
    await on.server.stop();
    await off?.server.stop();
  }
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)} %`;
}
