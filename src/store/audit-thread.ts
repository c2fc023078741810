// The background writer's thread: it owns a connection of its own, so a slow disk, a lock held by
// another process or a batch of a thousand rows never holds up the event loop that serves tokens.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { INSERT_AUDIT_EVENT, TOUCH_APP_PASSWORD, type AuditRow, type PasswordUseRow } from './audit-rows.ts';
import { needsReconnect } from './storage-errors.ts';

export interface ThreadOptions {
  file: string;
  busyTimeoutMs: number;
}

export type ThreadRequest =
  | { id: number; kind: 'audit'; rows: AuditRow[] }
  | { id: number; kind: 'passwords'; rows: PasswordUseRow[] }
  /** a statement on this thread's connection: how tests make this connection fail as a disk would */
  | { id: number; kind: 'exec'; sql: string };

export type ThreadReply = { id: number; ok: true } | { id: number; ok: false; code: string | null; message: string };

interface Connection {
  db: Database.Database;
  insertAudit: (rows: AuditRow[]) => void;
  touchPasswords: (rows: PasswordUseRow[]) => void;
}

const options = workerData as ThreadOptions;
let connection: Connection | null = null;

function open(): Connection {
  const db = new Database(options.file, { fileMustExist: true, timeout: options.busyTimeoutMs });
  const insert = db.prepare(INSERT_AUDIT_EVENT);
  const touch = db.prepare(TOUCH_APP_PASSWORD);
  return {
    db,
    insertAudit: db.transaction((rows: AuditRow[]) => {
      for (const row of rows) insert.run(row);
    }),
    touchPasswords: db.transaction((rows: PasswordUseRow[]) => {
      for (const row of rows) touch.run(row);
    }),
  };
}

function handle(request: ThreadRequest): void {
  connection ??= open();
  if (request.kind === 'audit') connection.insertAudit(request.rows);
  else if (request.kind === 'passwords') connection.touchPasswords(request.rows);
  else connection.db.exec(request.sql);
}

parentPort!.on('message', (request: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    handle(request);
    reply = { id: request.id, ok: true };
  } catch (error) {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : null;
    // a connection opened read-only, or whose file went bad under it: the next batch tries a fresh one
    if (connection && needsReconnect(code ?? undefined)) {
      connection.db.close();
      connection = null;
    }
    reply = { id: request.id, ok: false, code, message: (error as Error).message };
  }
  parentPort!.postMessage(reply);
});
