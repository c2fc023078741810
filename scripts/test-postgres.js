// npm run test:postgres (the second half of npm test): the test files whose servers and stores
// behave the same on both stores, run again with TEST_STORE=postgresql, each test server over a
// schema of its own in a database per file on the server at TEST_POSTGRES_URL. Without a reachable
// server it says so and skips, except under CI=true, where that fails the run.
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

export const BOTH_STORES = [
  'test/admin/cli-jwks.test.ts',
  'test/admin/cli-keys.test.ts',
  'test/admin/cli-options.test.ts',
  'test/admin/cli-policies.test.ts',
  'test/admin/cli-service-accounts.test.ts',
  'test/admin/definitions.test.ts',
  'test/app.test.ts',
  'test/caller/app-password.test.ts',
  'test/caller/argon2-fairness.test.ts',
  'test/caller/assertion-key-types.test.ts',
  'test/caller/auth-methods.test.ts',
  'test/caller/client-assertion.test.ts',
  'test/caller/federated-assertion.test.ts',
  'test/caller/shared-issuer.test.ts',
  'test/caller/throttle.test.ts',
  'test/grants/jwt-bearer.test.ts',
  'test/grants/token-exchange.test.ts',
  'test/http/introspection.test.ts',
  'test/http/jwks-attacks.test.ts',
  'test/http/metrics-endpoint.test.ts',
  'test/http/request-log.test.ts',
  'test/http/revocation.test.ts',
  'test/http/token-endpoint.test.ts',
  'test/http/token-metrics.test.ts',
  'test/http/well-known.test.ts',
  'test/keys/lifecycle.test.ts',
  'test/seed/concurrency.test.ts',
  'test/seed/seed-attacks.test.ts',
  'test/seed/seed.test.ts',
  'test/store/cached-state.test.ts',
  'test/trust/jwks-key-cache.test.ts',
];

/** The URL with any password hidden: CI logs are read by many. */
function shown(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(TEST_POSTGRES_URL, not shown: it does not parse as a URL)';
  }
}

async function main() {
  const url = process.env.TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';

  async function unreachableBecause() {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      return null;
    } catch (error) {
      return error.message || String(error);
    } finally {
      await client.end().catch(() => {});
    }
  }

  const why = await unreachableBecause();
  if (why !== null) {
    const message = `PostgreSQL at ${shown(url)} is unreachable (${why})`;
    if (process.env.CI === 'true') {
      console.error(`${message}: under CI=true the PostgreSQL half of the suite must run`);
      process.exit(1);
    }
    console.error(`\n*** ${message}: the PostgreSQL half of the suite is SKIPPED.\n*** Run it with a server: TEST_POSTGRES_URL=postgresql://user@host:5432/db npm test\n`);
    process.exit(0);
  }
  const ava = fileURLToPath(new URL('../node_modules/ava/entrypoints/cli.mjs', import.meta.url));
  const files = process.argv.length > 2 ? process.argv.slice(2) : BOTH_STORES;
  const child = spawn(process.execPath, [ava, ...files], { stdio: 'inherit', env: { ...process.env, TEST_STORE: 'postgresql' } });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
