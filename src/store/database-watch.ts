import { statSync } from 'node:fs';
import type { Logger } from '../logger.ts';
import type { Db } from './prisma.ts';
import { describeStorageError, needsReconnect, sqliteCode } from './storage-errors.ts';

export interface DatabaseFileHealth {
  /** false when the file at the configured path is not the one this process has open */
  ok: boolean;
  reason: string | null;
}

interface FileIdentity {
  dev: number;
  ino: number;
}

const RECONNECT_PAUSE_MS = 1000;

/**
 * Watches the connection of a serving process: reconnects after an error a fresh connection may
 * cure (a file opened read-only, an I/O error), and notices when the file at the configured path is
 * no longer the file it has open (removed, or replaced by a restore): a server writing to a file
 * nobody will ever read again must say so, in the log and in /readyz.
 */
export class DatabaseWatch {
  private opened: FileIdentity | null = null;
  private file: DatabaseFileHealth = { ok: true, reason: null };
  private timer: NodeJS.Timeout | undefined;
  private lastReconnect = 0;
  private reconnecting: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    /** the SQLite file; null on PostgreSQL, whose pool reconnects on its own */
    private readonly path: string | null,
    private readonly log: Logger,
  ) {}

  /** Call once the connection is open; then checks the file every `checkMs`. */
  start(checkMs = 1000): void {
    if (this.path === null) return;
    this.opened = identity(this.path);
    this.timer = setInterval(() => this.checkFile(), checkMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  fileHealth(): DatabaseFileHealth {
    return this.file;
  }

  /** Told of a failed query: reconnects (at most once a second) when a new connection may help. */
  reportError(error: unknown): void {
    const code = sqliteCode(error);
    if (this.path === null || !needsReconnect(code) || this.reconnecting || Date.now() - this.lastReconnect < RECONNECT_PAUSE_MS) return;
    // a new connection to a removed or replaced file would open (or create) another database
    this.checkFile();
    if (!this.file.ok) return;
    this.lastReconnect = Date.now();
    this.log.warn({ code }, `${describeStorageError(error)}: reopening the database connection`);
    this.reconnecting = this.db
      .$disconnect()
      .catch((cause: unknown) => this.log.error({ err: cause }, 'closing the database connection failed'))
      .finally(() => {
        this.reconnecting = null;
      });
  }

  /** Compares the file at the path with the one opened; logs each change of verdict once. */
  checkFile(): void {
    if (this.path === null) return;
    const now = identity(this.path);
    const reason = !now
      ? `the database file ${this.path} was removed while the server runs; restore it and restart tokenmint`
      : this.opened && (now.dev !== this.opened.dev || now.ino !== this.opened.ino)
        ? `the database file ${this.path} was replaced while the server runs (this server still uses the old file); restart tokenmint to use the new one`
        : null;
    if (reason === this.file.reason) return;
    if (reason) this.log.error(reason);
    else this.log.info({ path: this.path }, 'the database file is back');
    this.file = { ok: reason === null, reason };
  }
}

function identity(path: string): FileIdentity | null {
  try {
    const { dev, ino } = statSync(path);
    return { dev, ino };
  } catch {
    return null;
  }
}
