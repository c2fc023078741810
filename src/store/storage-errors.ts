// How the store's errors read: SQLite's result codes, PostgreSQL's SQLSTATEs and connection failures.

/** The SQLite result code behind an error from Prisma's driver adapter or better-sqlite3, e.g. `SQLITE_FULL`. */
export function sqliteCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  const original = e?.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof original === 'string') return original;
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) return e.code;
  const message = error instanceof Error ? error.message : '';
  return /\b(SQLITE_[A-Z_]+)\b/.exec(message)?.[1] ?? (/database is locked/.test(message) ? 'SQLITE_BUSY' : undefined);
}

/** Errors a fresh connection may cure: a connection opened read-only, or one whose file went bad under it. */
export function needsReconnect(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN'));
}

export function isBusy(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

interface AdapterCause {
  kind?: unknown;
  originalCode?: unknown;
  code?: unknown;
}

/**
 * What went wrong on PostgreSQL's side, as one word: a SQLSTATE (`53100`), the driver adapter's kind
 * (`DatabaseNotReachable`) or a socket's code (`ECONNREFUSED`); undefined for anything else.
 */
export function postgresCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: AdapterCause } }; cause?: AdapterCause } | null;
  const cause = e?.meta?.driverAdapterError?.cause ?? (e?.cause && typeof e.cause === 'object' ? e.cause : undefined);
  for (const value of [cause?.originalCode, cause?.code, cause?.kind, e?.code]) {
    if (typeof value === 'string' && (/^[0-9A-Z]{5}$/.test(value) || /^E[A-Z]+$/.test(value) || /^[A-Z][a-zA-Z]+$/.test(value)) && !value.startsWith('SQLITE_') && !/^P\d{4}$/.test(value)) return value;
  }
  const message = error instanceof Error ? error.message : '';
  if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) return 'ConnectionClosed';
  return undefined;
}

const UNREACHABLE = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

/** True for a PostgreSQL server that is down, restarting or not reachable: the caches carry on. */
export function isUnreachable(error: unknown): boolean {
  const code = postgresCode(error);
  return code !== undefined && UNREACHABLE.has(code);
}

function describePostgresError(code: string): string {
  if (UNREACHABLE.has(code)) return 'the database server cannot be reached';
  if (code === 'AuthenticationFailed' || code === '28P01' || code === '28000' || code === 'DatabaseAccessDenied') return 'the database server refused the user or password';
  if (code === 'DatabaseDoesNotExist' || code === '3D000') return 'the database does not exist';
  if (code === 'TooManyConnections' || code === '53300') return 'the database server has no free connection (max_connections)';
  if (code === '53100') return 'the database or its disk is full';
  if (code === '25006') return 'the database is read-only (a standby server?)';
  if (code === 'TableDoesNotExist' || code === '42P01') return 'the database is not migrated';
  return `database error ${code}`;
}

/** Why a write failed, in words for logs and /readyz. */
export function describeStorageError(error: unknown): string {
  const pgCode = sqliteCode(error) === undefined ? postgresCode(error) : undefined;
  if (pgCode) return describePostgresError(pgCode);
  const code = sqliteCode(error);
  if (code?.startsWith('SQLITE_FULL')) return 'the database or its disk is full';
  if (code?.startsWith('SQLITE_READONLY')) return 'the database is read-only';
  if (code?.startsWith('SQLITE_IOERR')) return 'the database file cannot be read or written (I/O error)';
  if (code?.startsWith('SQLITE_CANTOPEN')) return 'the database file cannot be opened';
  if (code?.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'the database file is corrupt';
  if (isBusy(code)) return 'the database is locked by another process';
  return code ? `database error ${code}` : 'database error';
}

/** An error of the database layer (Prisma, its driver adapter or SQLite), not of our own code. */
export function isDatabaseError(error: unknown): boolean {
  if (sqliteCode(error) !== undefined) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && (name.startsWith('PrismaClient') || name === 'DriverAdapterError' || name === 'DatabaseError');
}
