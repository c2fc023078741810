// The PostgreSQL half of the suite runs against a real server: TEST_POSTGRES_URL, or the local one
// every development and CI machine of this project has. Each test file makes databases of its own,
// so files run in parallel. Without a reachable server the half is skipped, loudly, except under
// CI=true, where an unreachable server fails the run.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdentifier, redactedUrl } from '../../src/store/postgres-url.ts';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | null> | undefined;

/** Null when the server answers; otherwise why not. */
function unreachableBecause(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (error) {
      return (error as Error).message || String(error);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/**
 * True when the PostgreSQL tests can run. False (after saying so on stderr) when no server is
 * reachable; under CI=true that throws instead, failing the file.
 */
export async function postgresAvailable(): Promise<boolean> {
  const why = await unreachableBecause();
  if (why === null) return true;
  const message = `PostgreSQL at ${redactedUrl(TEST_POSTGRES_URL)} is unreachable (${why})`;
  if (process.env.CI === 'true') throw new Error(`${message}: under CI=true the PostgreSQL half of the suite must run`);
  console.error(`\n*** ${message}: the PostgreSQL half of the suite is SKIPPED.\n*** Run it with a server: TEST_POSTGRES_URL=postgresql://user@host:5432/db npm test\n`);
  return false;
}

export interface TestDatabase {
  /** postgresql://… of a new, empty database */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database on the test server; `drop` removes it, closing whatever still uses it. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `tokenmint_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => asAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`)).then(() => {}),
  };
}

/**
 * A client whose session the server may end (a database dropped WITH (FORCE), connections cut by a
 * test): that fails the query in flight, where the test sees it; between queries it is not an error
 * of the test process.
 */
function newClient(connectionString: string): pg.Client {
  const created = new pg.Client({ connectionString });
  created.on('error', () => {});
  return created;
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = newClient(TEST_POSTGRES_URL);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A client of one database, connected; the caller ends it. */
export async function connect(url: string): Promise<pg.Client> {
  const client = newClient(url);
  await client.connect();
  return client;
}
