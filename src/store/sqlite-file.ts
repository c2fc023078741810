import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeStorageError, sqliteCode } from './storage-errors.ts';

export const BUSY_TIMEOUT_MS = 5000;

/** A database file that cannot be used as it is: missing, not a database, or corrupt. */
export class DatabaseFileError extends Error {}

export interface OpenOptions {
  /** create the file (and its directory) when it does not exist; otherwise a missing file is an error */
  create?: boolean;
  busyTimeoutMs?: number;
}

/**
 * Opens the SQLite file directly (migrations and start-up checks). A new file, and the `-wal` and
 * `-shm` files SQLite makes beside it (they take the database file's mode), are readable by the
 * owner only, whatever the process umask and the directory's mode.
 */
export function openSqliteFile(file: string, options: OpenOptions = {}): Database.Database {
  const create = options.create ?? true;
  if (!create && !existsSync(file)) throw new DatabaseFileError(`no database at ${file}: the server's first start creates it (npm start), or pass --init to create an empty one there`);
  const previous = process.umask(0o077);
  let db: Database.Database | undefined;
  try {
    if (create) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file, { timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS, fileMustExist: !create });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db?.close();
    const code = sqliteCode(error);
    if (code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT')) throw new DatabaseFileError(`${file} is not a usable database (${describeStorageError(error)}): restore it from a backup`);
    throw error;
  } finally {
    process.umask(previous);
  }
}

/**
 * SQLite's own consistency check: `quick` (PRAGMA quick_check, fast enough for every start) or
 * `full` (PRAGMA integrity_check, which also checks every index against its table). Returns the
 * problems found; none means the file is sound.
 */
export function integrityProblems(db: Database.Database, depth: 'quick' | 'full', limit = 20): string[] {
  try {
    const rows = db.pragma(`${depth === 'quick' ? 'quick_check' : 'integrity_check'}(${limit})`) as Record<string, string>[];
    const messages = rows.map((row) => Object.values(row)[0] ?? '');
    return messages.length === 1 && messages[0] === 'ok' ? [] : messages;
  } catch (error) {
    // the check itself could not read the file: SQLite's own words say most
    return [error instanceof Error ? error.message : describeStorageError(error)];
  }
}
