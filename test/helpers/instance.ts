import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { runAdminCli } from '../../src/admin/cli.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { DepsOptions } from '../../src/deps.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { prepare } from '../../src/prepare.ts';
import { serve, type Serving } from '../../src/serve.ts';
import { createTestDatabase } from './postgres.ts';

export const TEST_ISSUER = 'https://issuer.tokenmint.test';

export interface AdminRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json commands) */
  json<T = Record<string, unknown>>(): T;
}

export interface Instance {
  dir: string;
  config: Config;
  serving: Serving;
  /** http://127.0.0.1:<port> */
  url: string;
  admin(...argv: string[]): Promise<AdminRun>;
  /** POST /token with a form body (values may be arrays for repeated parameters) */
  token(form: Record<string, string | string[]> | string, headers?: Record<string, string>): Promise<Response>;
  /** POST a form to any endpoint (`/introspect`, `/revoke`) */
  post(path: string, form: Record<string, string | string[]> | string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** Which store the instances of this run use: TEST_STORE=postgresql runs them on PostgreSQL. */
export const TEST_STORE: 'sqlite' | 'postgresql' = process.env.TEST_STORE === 'postgresql' ? 'postgresql' : 'sqlite';

// With TEST_STORE=postgresql this module declares a hook of the importing test file: such a file
// (those listed in scripts/test-postgres.js) must declare its tests without awaiting anything first.
const fileDatabase = TEST_STORE === 'postgresql' ? await createTestDatabase('store') : undefined;
if (fileDatabase) test.after.always(() => fileDatabase.drop());
const schemas = new Map<string, string>();

function postgresStoreFor(dir: string): Record<string, string> {
  let schema = schemas.get(dir);
  if (!schema) {
    schema = `instance_${schemas.size + 1}`;
    schemas.set(dir, schema);
  }
  return { DATABASE_URL: `${fileDatabase!.url}?schema=${schema}`, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
}

/** The key-encryption key of instances on PostgreSQL, where one must be configured. */
export const TEST_KEY_ENCRYPTION_KEY = Buffer.alloc(32, 0x5a).toString('base64');

/** A fresh data directory with its own SQLite file. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tokenmint-test-'));
}

/**
 * The configuration of a test server whose data lives in `dir`: a SQLite file there, or, with
 * TEST_STORE=postgresql, a schema of its own in this test file's PostgreSQL database (the same
 * schema for the same directory, as the same file would be).
 */
export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  const store = TEST_STORE === 'postgresql' && env.DATABASE_URL === undefined ? postgresStoreFor(dir) : { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}` };
  return loadConfig(
    {
      ...store,
      PORT: '0',
      HOST: '127.0.0.1',
      ISSUER_URL: TEST_ISSUER,
      LOG_LEVEL: 'silent',
      // tests fail on purpose far more often than a real caller; the throttle has its own test
      AUTH_FAILURES_PER_MINUTE: '100000',
      // and they refuse far more requests a second than the audit log records one by one in production
      AUDIT_DENIED_PER_SECOND: '100000',
      ...env,
    },
    dir,
  );
}

/** Creates and migrates the database of a config, as the server's first start does (the CLI never creates one). */
export async function prepareDatabase(config: Config): Promise<Buffer> {
  return prepare(config, createLogger('silent'));
}

export async function runAdmin(config: Config, argv: string[]): Promise<AdminRun> {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCli(argv, config, { write: (t) => void (stdout += t) }, { write: (t) => void (stderr += t) });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

export function formBody(form: Record<string, string | string[]>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) body.append(name, v);
  return body.toString();
}

export interface InstanceOptions {
  /** instead of a silent logger */
  log?: Logger;
  /** timings of the serving process (the poll interval is 100 ms unless given) */
  deps?: DepsOptions;
}

/** The real server on an ephemeral port over a real SQLite file in a temp directory. */
export async function startInstance(env: Record<string, string> = {}, options: InstanceOptions = {}): Promise<Instance> {
  const dir = tempDir();
  const config = testConfig(dir, env);
  const log = options.log ?? createLogger(config.logLevel);
  const kek = await prepare(config, log);
  const serving = await serve(config, log, kek, { pollMs: 100, ...options.deps });
  const url = `http://127.0.0.1:${serving.port}`;
  const post = (path: string, form: Record<string, string | string[]> | string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: typeof form === 'string' ? form : formBody(form),
    });
  return {
    dir,
    config,
    serving,
    url,
    admin: (...argv) => runAdmin(config, argv),
    token: (form, headers = {}) => post('/token', form, headers),
    post,
    async close() {
      await serving.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function basic(clientId: string, secret: string): string {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** Creates an application with a secret; returns its client secret. */
export async function createApp(instance: Instance, clientId: string, ...extra: string[]): Promise<string> {
  const run = await instance.admin('app', 'create', clientId, '--secret', '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example,https://other.example', '--json', ...extra);
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<{ client_secret: string }>().client_secret;
}

/** Waits until running servers have had time to see an admin change (the 2-second rule, with margin). */
export async function untilPropagated<T>(check: () => Promise<T>, accept: (value: T) => boolean, limitMs = 2000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A logger whose lines a test can read. */
export function capturingLogger(level = 'info'): { log: Logger; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  return { log: pino({ level }, stream), text: () => lines.join('') };
}
