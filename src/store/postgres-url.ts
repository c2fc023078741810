import type { PoolConfig } from 'pg';

/** How to reach a PostgreSQL database named by a `postgresql://` URL. */
export interface PostgresTarget {
  /** the URL without its `schema` parameter (the pg driver does not know it) */
  connectionString: string;
  /** the schema the tables live in, from `?schema=` as Prisma reads it; the server's default when absent */
  schema: string | undefined;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function postgresTarget(databaseUrl: string): PostgresTarget {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema: schema || undefined };
}

/**
 * The driver's settings for a target: unqualified names (raw statements, the migrations) resolve in
 * the configured schema, as Prisma's generated queries do.
 */
export function clientConfig(target: PostgresTarget, extra: PoolConfig = {}): PoolConfig {
  return {
    connectionString: target.connectionString,
    ...(target.schema ? { options: `-c search_path=${quoteIdentifier(target.schema)}` } : {}),
    ...extra,
  };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL with its password hidden, for logs and error messages. */
export function redactedUrl(databaseUrl: string): string {
  if (!isPostgresUrl(databaseUrl)) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return 'postgresql://… (not shown: it does not parse as a URL)';
  }
}
