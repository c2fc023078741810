import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** @node-rs/argon2's Algorithm.Argon2id (a const enum, which this build cannot import). */
const ARGON2ID = 2;

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Where argon2 runs. Verification answers false for a malformed hash rather than throwing. */
export interface Argon2Engine {
  hash(secret: string, params: Argon2Params): Promise<string>;
  verify(hash: string, secret: string): Promise<boolean>;
  close(): Promise<void>;
}

/** argon2 for this thread, loaded by the first hash or verification: most admin commands never need it. */
const argon2 = () => import('@node-rs/argon2');

/** On the process's shared thread pool: for the admin CLI, which has nothing else to do meanwhile. */
export const inlineArgon2: Argon2Engine = {
  hash: async (secret, params) => (await argon2()).hash(secret, { ...params, algorithm: ARGON2ID }),
  verify: async (hash, secret) => {
    const { verify } = await argon2();
    try {
      return await verify(hash, secret);
    } catch {
      return false;
    }
  },
  close: async () => {},
};

/** How much lower than serving argon2 runs (Linux nice levels; 10 gives it about a tenth of a busy core). */
export const ARGON2_NICENESS = 10;

// Plain JavaScript, evaluated in each worker thread: no loader or build step is involved, and no
// require(), which a thread started with --input-type=module would not have.
const THREAD_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const argon2 = process.getBuiltinModule('node:module').createRequire(workerData.module)(workerData.module);
try {
  // Linux: this thread's id, to lower its own priority; elsewhere argon2 runs at normal priority
  const tid = Number(process.getBuiltinModule('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  process.getBuiltinModule('node:os').setPriority(tid, workerData.niceness);
} catch {}
parentPort.on('message', ({ id, op, hash, secret, params }) => {
  try {
    const result = op === 'verify' ? argon2.verifySync(hash, secret) : argon2.hashSync(secret, { ...params, algorithm: workerData.argon2id });
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, result: op === 'verify' ? false : undefined, error: String(error && error.message) });
  }
});
`;

interface Job {
  op: 'hash' | 'verify';
  hash?: string;
  secret: string;
  params?: Argon2Params;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

/**
 * argon2 on worker threads of its own, each at a lower CPU priority than the threads that serve
 * requests: a flood of guesses can keep every core busy with argon2 and still take only a small
 * share of the CPU from token requests that need none. Threads run one computation at a time;
 * callers bound how many they hand over (the SecretHasher's limiter).
 */
export class Argon2Pool implements Argon2Engine {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly backlog: Job[] = [];
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly niceness = ARGON2_NICENESS,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  hash(secret: string, params: Argon2Params): Promise<string> {
    return this.submit({ op: 'hash', secret, params }) as Promise<string>;
  }

  verify(hash: string, secret: string): Promise<boolean> {
    return this.submit({ op: 'verify', hash, secret }) as Promise<boolean>;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private submit(job: Omit<Job, 'resolve' | 'reject'>): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error('the argon2 pool is closed'));
    return new Promise((resolve, reject) => {
      this.backlog.push({ ...job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.backlog.length > 0 && this.idle.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.backlog.shift()!;
      this.busy.set(worker, job);
      worker.postMessage({ id: 0, op: job.op, hash: job.hash, secret: job.secret, params: job.params });
    }
  }

  private spawn(): Worker {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('@node-rs/argon2'), niceness: this.niceness, argon2id: ARGON2ID },
    });
    worker.unref();
    worker.on('message', (message: { result: string | boolean | undefined; error?: string }) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      this.idle.push(worker);
      if (job && message.result === undefined) job.reject(new Error(`argon2 failed: ${message.error}`));
      else job?.resolve(message.result!);
      this.dispatch();
    });
    // a thread that dies fails its job and is replaced
    worker.on('error', (error) => this.replace(worker, error));
    worker.on('exit', () => this.replace(worker, new Error('an argon2 thread exited')));
    return worker;
  }

  private replace(worker: Worker, error: Error): void {
    const job = this.busy.get(worker);
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    job?.reject(error);
    if (this.closed || this.idle.length + this.busy.size >= this.size) return;
    this.idle.push(this.spawn());
    this.dispatch();
  }
}

/** Parses `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` (the parameters in any order). */
export function hashParameters(hash: string): { type: string; version: number; params: Argon2Params } | null {
  const match = /^\$(argon2(?:id|i|d))\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/.exec(hash);
  if (!match) return null;
  const values = Object.fromEntries(match[3]!.split(',').map((pair) => pair.split('=') as [string, string]));
  const [m, t, p] = [values.m, values.t, values.p].map(Number);
  if (!m || !t || !p) return null;
  return { type: match[1]!, version: Number(match[2]), params: { memoryCost: m, timeCost: t, parallelism: p } };
}
