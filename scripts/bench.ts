// npm run bench — throughput of the running server on this machine, over loopback only.
// Starts tokenmint (WORKERS as configured, default one per core) on a temporary database,
// provisions an application and a service account, then drives each scenario for a bounded time.
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdminCli } from '../src/admin/cli.ts';
import { loadConfig } from '../src/config.ts';
import { machineFloor } from './bench-floor.ts';
import { benchMetricsCost } from './bench-metrics.ts';
import { startBuiltServer } from './bench-server.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARM_UP_SECONDS = 3;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = Number(process.env.BENCH_PORT ?? 3917);
const dir = mkdtempSync(join(tmpdir(), 'tokenmint-bench-'));
// BENCH_DATABASE_URL=postgresql://…: the bench runs over a temporary database it makes on that server
const postgresServer = process.env.BENCH_DATABASE_URL;
const postgresDatabase = postgresServer ? `tokenmint_bench_${randomBytes(5).toString('hex')}` : undefined;
const databaseUrl = postgresServer ? Object.assign(new URL(postgresServer), { pathname: `/${postgresDatabase}` }).toString() : `file:${join(dir, 'bench.db')}`;
// throttling off: the wrong-secret scenario measures argon2, not the throttle
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  ...(postgresServer && !process.env.KEY_ENCRYPTION_KEY ? { KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') } : {}),
  PORT: String(PORT),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  AUTH_FAILURES_PER_MINUTE: '0',
};

async function onPostgresServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresServer });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
const url = `http://127.0.0.1:${PORT}`;
const ISSUER = `http://localhost:${PORT}`;

/** An external issuer's key as a JWKS document source, and one reusable JWT from it (as a Kubernetes token is). */
async function externalJwt(alg: string): Promise<string> {
  const kid = `bench-${alg}`;
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const file = join(dir, `${kid}.json`);
  writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }] }));
  await admin(['jwks', 'add', kid, '--file', file, '--issuer', `https://${kid}.example`, '--algorithms', alg, '--app', 'bench', '--subject-prefix', `${alg}:`]);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: `https://${kid}.example`, sub: 'system:serviceaccount:bench:job', aud: ISSUER, iat: now, exp: now + 600 })
    .setProtectedHeader({ alg, kid })
    .sign(privateKey);
}

async function admin(argv: string[]): Promise<Record<string, string>> {
  let out = '';
  const code = await runAdminCli([...argv, '--json'], loadConfig({ ...env, LOG_LEVEL: 'silent' }), { write: (t) => void (out += t) }, process.stderr);
  if (code !== 0) throw new Error(`admin ${argv.join(' ')} failed`);
  return JSON.parse(out);
}

async function waitReady(): Promise<void> {
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

async function run(title: string, path: string, options: Omit<autocannon.Options, 'url'>, expectStatus = 200): Promise<autocannon.Result> {
  const issuedBefore = path === '/token' ? await settledIssuedCount() : 0;
  await eventLoopDelay();
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options, url: `${url}${path}` });
  const loop = await eventLoopDelay();
  // every token issued is an audit row: the rows written during the scenario against the 200s sent
  const audit = path === '/token' && expectStatus === 200 ? `   audit rows ${(await settledIssuedCount()) - issuedBefore} of ${statusCount(result, (s) => s === 200)} tokens` : '';
  report(title, result, expectStatus, `${loop}${audit}`);
  return result;
}

/**
 * The event-loop delay of the server's processes since the last call, from /metrics: prom-client
 * samples each process's with perf_hooks.monitorEventLoopDelay and starts afresh at each scrape.
 * The max is the longest stall of any process that serves, the p99 the highest of their p99s; both
 * without the 10 ms sampling interval, which every sample includes. The primary of a cluster serves
 * no request (it runs the jobs and answers the scrape): its longest stall is shown apart.
 */
const SAMPLING_MS = 10;

async function eventLoopDelay(): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  // with WORKERS=1 the one process, labelled primary, is also the one that serves
  const cluster = /process="worker-/.test(text);
  const highest = (name: string, of: 'serving' | 'primary') => {
    const values = [...text.matchAll(new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))]
      .filter((m) => {
        const primary = /process="primary"/.test(m[1] ?? '');
        return of === 'primary' ? primary : !primary || !cluster;
      })
      .map((m) => Number(m[2]));
    return values.length > 0 ? `${Math.max(0, Math.max(...values) * 1000 - SAMPLING_MS).toFixed(0)} ms` : 'n/a';
  };
  return `   event-loop stall max ${highest('max', 'serving')} p99 ${highest('p99', 'serving')}${cluster ? `, primary max ${highest('max', 'primary')}` : ''}`;
}

async function issuedCount(): Promise<number> {
  if (postgresServer) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return Number((await client.query("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'token.issued'")).rows[0].n);
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(dir, 'bench.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'token.issued'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The count once the server's writers have flushed what they queued (they write every 250 ms). */
async function settledIssuedCount(): Promise<number> {
  let last = await issuedCount();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 400));
    const now = await issuedCount();
    if (now === last) return now;
    last = now;
  }
  return last;
}

function statusCount(result: autocannon.Result, status: (code: number) => boolean): number {
  const stats = (result.statusCodeStats ?? {}) as Record<string, { count?: number }>;
  return Object.entries(stats).filter(([s]) => status(Number(s))).reduce((n, [, v]) => n + (v.count ?? 0), 0);
}

function report(title: string, result: autocannon.Result, expectStatus = 200, extra = ''): void {
  const wrong = statusCount(result, (s) => s !== expectStatus);
  console.log(
    `${title.padEnd(44)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(result.latency.p50).padStart(4)} ms   p99 ${String(result.latency.p99).padStart(4)} ms   unexpected ${wrong + result.errors}${extra}`,
  );
}

/** Random unknown client_ids with well-formed random secrets, as a distributed guessing flood sends them. */
function guessingRequest(request: autocannon.Request): autocannon.Request {
  const id = randomBytes(8).toString('hex');
  const secret = `tmcs_${'abcdefghijkmnpqr'}_${randomBytes(32).toString('base64url')}`;
  return { ...request, headers: { ...request.headers, authorization: `Basic ${Buffer.from(`guess-${id}:${secret}`).toString('base64')}`, 'x-forwarded-for': `198.51.${randomBytes(1)[0]}.${randomBytes(1)[0]}` } };
}

// before tokenmint starts, on a port of its own (BENCH_PORT + 3): the machine's floor for the stalls
const floor = await machineFloor({ port: PORT + 3, processes: loadConfig({ ...env, LOG_LEVEL: 'silent' }).workers, connections: CONNECTIONS, seconds: SECONDS });
if (postgresServer) await onPostgresServer(`CREATE DATABASE "${postgresDatabase}"`);
// the build, as npm start runs it (with WORKERS=1 the one process serves)
const server = await startBuiltServer(env);
try {
  await waitReady();
  const app = await admin(['app', 'create', 'bench', '--secret', '--scopes', 'read', '--default-scopes', 'read', '--audiences', 'https://api.example', '--grants', 'client_credentials,jwt-bearer']);
  const account = await admin(['service-account', 'create', 'bench-job', '--app', 'bench', '--permissions', 'read']);
  // an application of its own for the flood scenario, which runs after 'bench' gets policies
  const floodApp = await admin(['app', 'create', 'bench-flood', '--secret', '--audiences', 'https://api.example']);
  // the resource server of https://api.example, introspecting the tokens it is sent
  const api = await admin(['app', 'create', 'bench-api', '--secret', '--audiences', 'https://api.example']);
  const jwts = { RS256: await externalJwt('RS256'), ES256: await externalJwt('ES256') };
  await new Promise((r) => setTimeout(r, 1000));
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const basicAuth = `Basic ${Buffer.from(`bench:${app.client_secret}`).toString('base64')}`;

  // warm-up at the scenarios' load: JIT, caches, the first argon2 verification of each credential,
  // and heaps grown to the size they keep under that load (growing them faults in fresh memory)
  await autocannon({ url: `${url}/token`, connections: CONNECTIONS, duration: WARM_UP_SECONDS, method: 'POST', headers: { ...form, authorization: basicAuth }, body: 'grant_type=client_credentials' });
  // and a first scrape: compiling its code is the slowest it ever is, and each scrape's work after
  // reading the event-loop figures falls into the next scenario's
  await eventLoopDelay();
  console.log(
    `tokenmint bench: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), WORKERS=${process.env.WORKERS ?? 'default'}, ${CONNECTIONS} connections, ${SECONDS}s each, store ${postgresServer ? 'PostgreSQL' : 'SQLite'}`,
  );
  console.log(floor);
  await run('client_credentials, client_secret_basic', '/token', { method: 'POST', headers: { ...form, authorization: basicAuth }, body: 'grant_type=client_credentials' });
  await run('client_credentials, service account', '/token', {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'bench', username: 'bench-job', password: account.app_password! }).toString(),
  });
  for (const [alg, jwt] of Object.entries(jwts)) {
    await run(`jwt-bearer, reused ${alg} JWT, no client_id`, '/token', {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }).toString(),
    });
  }
  // the same request once the application has an allow and a claims policy
  await admin(['policy', 'add', 'bench-allow', '--app', 'bench', '--expression', 'request.context["oauth_jwt"]["sub"].startsWith("system:serviceaccount:bench:") && ip_in(request.ip, "127.0.0.0/8")']);
  await admin(['policy', 'add', 'bench-claims', '--app', 'bench', '--kind', 'claims', '--expression', '{"namespace": request.context["oauth_jwt"]["sub"].split(":")[2]}']);
  await new Promise((r) => setTimeout(r, 1000));
  await run('jwt-bearer, reused ES256 JWT, two policies', '/token', {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwts.ES256 }).toString(),
  });
  await run('GET /.well-known/jwks.json', '/.well-known/jwks.json', { method: 'GET' });
  // a token of bench-flood's, which has no policies
  const floodBasic = `Basic ${Buffer.from(`bench-flood:${floodApp.client_secret}`).toString('base64')}`;
  const issued = (await (await fetch(`${url}/token`, { method: 'POST', headers: { ...form, authorization: floodBasic }, body: 'grant_type=client_credentials' })).json()) as { access_token: string };
  const introspection = { method: 'POST' as const, headers: { ...form, authorization: `Basic ${Buffer.from(`bench-api:${api.client_secret}`).toString('base64')}` }, body: `token=${issued.access_token}` };
  const answer = (await (await fetch(`${url}/introspect`, introspection)).json()) as { active?: boolean };
  if (answer.active !== true) throw new Error('the introspection scenario\'s token is not active');
  await run('introspection, resource server, active token', '/introspect', introspection);
  await run('wrong secret (one argon2id verify each)', '/token', {
    method: 'POST',
    headers: { ...form, authorization: `Basic ${Buffer.from(`bench:${app.client_secret!.slice(0, -4)}AAAA`).toString('base64')}` },
    body: 'grant_type=client_credentials',
    connections: 8,
  }, 401);

  // a valid client beside a distributed flood of guesses for unknown clients (64 connections)
  const valid = { url: `${url}/token`, connections: CONNECTIONS, duration: SECONDS, method: 'POST' as const, headers: { ...form, authorization: floodBasic }, body: 'grant_type=client_credentials' };
  await autocannon({ ...valid, connections: 4, duration: 1 });
  const alone = await autocannon(valid);
  const [beside, flood] = await Promise.all([
    autocannon(valid),
    autocannon({ url: `${url}/token`, connections: 64, duration: SECONDS, method: 'POST', headers: form, body: 'grant_type=client_credentials', requests: [{ setupRequest: guessingRequest }] }),
  ]);
  report('valid client alone', alone);
  report('valid client beside a 64-connection guess flood', beside, 200, `   503s ${statusCount(beside, (s) => s === 503)}   kept ${((100 * beside.requests.average) / alone.requests.average).toFixed(0)}% of its rate`);
  report('  the flood (unknown clients, random secrets)', flood, 401, `   503s ${statusCount(flood, (s) => s === 503)}`);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  if (postgresServer) await onPostgresServer(`DROP DATABASE IF EXISTS "${postgresDatabase}" WITH (FORCE)`);
}

// on servers of their own (ports BENCH_PORT + 1 and + 2), once the first has stopped
await benchMetricsCost({ port: PORT + 1, connections: CONNECTIONS, seconds: SECONDS });
