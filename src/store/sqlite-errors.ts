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

/** Why a write failed, in words for logs and /readyz. */
export function describeStorageError(error: unknown): string {
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
  return typeof name === 'string' && (name.startsWith('PrismaClient') || name === 'DriverAdapterError');
}
