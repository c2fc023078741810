import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../package-root.ts';
import { auditRow, storedDateTime } from './audit-rows.ts';
import type { ThreadOptions, ThreadReply, ThreadRequest } from './audit-thread.ts';
import type { AuditEvent } from './types.ts';

interface Waiting {
  resolve: () => void;
  reject: (error: Error) => void;
}

type Request = ThreadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** An error of the writer's connection, carrying SQLite's code as the store's own errors do. */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const FROM_TYPESCRIPT = import.meta.url.endsWith('.ts');
// built, this module is inside a bundle; the build makes the thread an entry point of its own there
const THREAD = FROM_TYPESCRIPT ? new URL('./audit-thread.ts', import.meta.url) : pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'store', 'audit-thread.js'));

/**
 * The build runs the thread's JavaScript. Run from TypeScript (tests, development), a thread does
 * not inherit the loader hooks of the thread that started it, so it registers tsx first.
 */
function startThread(options: ThreadOptions): Worker {
  if (!FROM_TYPESCRIPT) return new Worker(THREAD, { workerData: options, name: 'audit-writer' });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = `import(${tsx}).then((api) => { api.register(); return import(${JSON.stringify(THREAD.href)}); });`;
  return new Worker(source, { eval: true, workerData: options, name: 'audit-writer' });
}

/**
 * Where the background writer's batches go: a thread of their own with its own SQLite connection.
 * Each call resolves once its rows are committed, or rejects with the connection's error. A thread
 * that dies is replaced at the next call.
 */
export class AuditSink {
  private worker: { thread: Worker; pending: Map<number, Waiting> } | null = null;
  private nextId = 1;

  constructor(private readonly options: ThreadOptions) {}

  insertAuditEvents(events: AuditEvent[]): Promise<void> {
    return events.length === 0 ? Promise.resolve() : this.send({ kind: 'audit', rows: events.map(auditRow) });
  }

  touchAppPasswords(uses: Map<string, Date>): Promise<void> {
    return uses.size === 0 ? Promise.resolve() : this.send({ kind: 'passwords', rows: [...uses].map(([id, at]) => [storedDateTime(at), id]) });
  }

  /** Runs a statement on the writer's own connection (a pragma, in tests). */
  exec(sql: string): Promise<void> {
    return this.send({ kind: 'exec', sql });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.thread.terminate();
  }

  private send(request: Request): Promise<void> {
    const id = this.nextId++;
    const worker = this.started();
    return new Promise<void>((resolve, reject) => {
      worker.pending.set(id, { resolve, reject });
      worker.thread.postMessage({ ...request, id } as ThreadRequest);
    });
  }

  private started(): { thread: Worker; pending: Map<number, Waiting> } {
    if (this.worker) return this.worker;
    const thread = startThread(this.options);
    const worker = { thread, pending: new Map<number, Waiting>() };
    thread.unref();
    thread.on('message', (reply: ThreadReply) => {
      const waiting = worker.pending.get(reply.id);
      worker.pending.delete(reply.id);
      if (reply.ok) waiting?.resolve();
      else waiting?.reject(new SinkError(reply.message, reply.code ?? undefined));
    });
    const stopped = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of worker.pending.values()) waiting.reject(error);
      worker.pending.clear();
    };
    thread.on('error', stopped);
    thread.on('exit', (code) => stopped(new Error(`the audit writer's thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
