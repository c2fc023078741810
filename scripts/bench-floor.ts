// The machine's own floor for the event-loop figures: a bare node:http server with as many
// processes as tokenmint serves with, answering every request with a fixed token-sized body, under
// the bench's load. Its stalls are what the machine (other threads, the load generator, the
// hypervisor) makes any Node.js server wait; what tokenmint shows beyond them is its own.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Plain JavaScript, run from a file of its own (cluster forks its workers from it). The primary
// answers each line on stdin with the longest stall and the highest p99 of its serving processes
// since the last line, net of the 10 ms sampling interval, as /metrics gives tokenmint's.
const FLOOR_SERVER = `
import cluster from 'node:cluster';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
const processes = Number(process.env.FLOOR_PROCESSES);
const SAMPLING_NS = 10e6;
function serve(onReady) {
  const body = JSON.stringify({ access_token: 'x'.repeat(700), token_type: 'Bearer', expires_in: 600 });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body));
  });
  server.listen(Number(process.env.FLOOR_PORT), '127.0.0.1', onReady);
  return () => {
    const figures = { max: Math.max(0, delay.max - SAMPLING_NS) / 1e6, p99: Math.max(0, delay.percentile(99) - SAMPLING_NS) / 1e6 };
    delay.reset();
    return figures;
  };
}
if (processes === 1) {
  const read = serve(() => console.log('ready'));
  createInterface({ input: process.stdin }).on('line', () => console.log(JSON.stringify(read())));
} else if (cluster.isPrimary) {
  const workers = Array.from({ length: processes }, () => cluster.fork());
  let listening = 0;
  cluster.on('listening', () => ++listening === processes && console.log('ready'));
  createInterface({ input: process.stdin }).on('line', async () => {
    const figures = await Promise.all(workers.map((w) => new Promise((resolve) => { w.once('message', resolve); w.send('read'); })));
    console.log(JSON.stringify({ max: Math.max(...figures.map((f) => f.max)), p99: Math.max(...figures.map((f) => f.p99)) }));
  });
  process.stdin.on('end', () => { for (const w of workers) w.kill(); });
} else {
  const read = serve(() => {});
  process.on('message', () => process.send(read()));
}
`;

export async function machineFloor(options: { port: number; processes: number; connections: number; seconds: number }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-bench-floor-'));
  const script = join(dir, 'floor.mjs');
  writeFileSync(script, FLOOR_SERVER);
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, FLOOR_PORT: String(options.port), FLOOR_PROCESSES: String(options.processes) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the floor server stopped');
    return line.value;
  };
  try {
    if ((await next()) !== 'ready') throw new Error('the floor server did not start');
    const load = { url: `http://127.0.0.1:${options.port}/token`, connections: options.connections, method: 'POST' as const, body: 'grant_type=client_credentials' };
    await autocannon({ ...load, duration: 2 });
    child.stdin.write('read\n');
    await next();
    const result = await autocannon({ ...load, duration: options.seconds });
    child.stdin.write('read\n');
    const { max, p99 } = JSON.parse(await next()) as { max: number; p99: number };
    return `machine floor: a bare node:http server, ${options.processes} process${options.processes === 1 ? '' : 'es'}, ${result.requests.average.toFixed(0)} req/s: event-loop stall max ${max.toFixed(0)} ms p99 ${p99.toFixed(0)} ms`;
  } finally {
    child.stdin.end();
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}
