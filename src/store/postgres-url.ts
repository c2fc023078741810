import type { PoolConfig } from 'pg';

/** How to reach a PostgreSQL database named by a `postgresql://` URL. */
export interface PostgresTarget {
  /** the URL without its `schema` parameter (the pg driver does not know it) */
  connectionString: string;
  /** the schema the tables live in, from `?schema=` as Prisma reads it; `public` when absent, as Prisma's own default */
  schema: string;
}

export function postgresTarget(databaseUrl: string): PostgresTarget {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') || 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

/** How long a connection waits for a PostgreSQL server to answer before the query fails. */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5000;

/**
 * What makes a `postgresql://` URL unusable here, or nothing: it must parse; `?schema=` must be a
 * plain identifier, so that nothing else needs quoting rules; and `options=` is refused, because the
 * driver would let it replace the search_path that keeps every query in the configured schema.
 */
export function postgresUrlProblems(databaseUrl: string): string[] {
  if (!URL.canParse(databaseUrl)) return ['is not a valid PostgreSQL URL'];
  const params = new URL(databaseUrl).searchParams;
  const problems: string[] = [];
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(params.get('schema') ?? 'public')) problems.push('schema= must be a plain identifier (letters, digits, _)');
  if (params.has('options')) problems.push('options= is not supported: name the schema with schema=');
  return problems;
}

/** How long a statement of the serving processes may run before the server cancels it. */
export const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The driver's settings for a target: unqualified names (raw statements, the migrations) resolve in
 * the configured schema, as Prisma's generated queries do (whatever the role's own search_path).
 * `timeouts` (the serving processes' pools, not the migrator) bounds every statement, on the server
 * and, should the server stop answering altogether (a partition), in the driver too.
 */
export function clientConfig(target: PostgresTarget, extra: PoolConfig = {}, timeouts = false): PoolConfig {
  const options = [`-c search_path=${quoteIdentifier(target.schema)}`];
  if (timeouts) options.push(`-c statement_timeout=${STATEMENT_TIMEOUT_MS}`, `-c idle_in_transaction_session_timeout=${2 * STATEMENT_TIMEOUT_MS}`);
  return {
    connectionString: target.connectionString,
    options: options.join(' '),
    keepAlive: true,
    ...(timeouts ? { query_timeout: STATEMENT_TIMEOUT_MS + 5000 } : {}),
    ...extra,
  };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL with its password hidden, for logs and error messages. */
export function redactedUrl(databaseUrl: string): string {
  if (databaseUrl.startsWith('file:')) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return 'postgresql://… (not shown: it does not parse as a URL)';
  }
}
