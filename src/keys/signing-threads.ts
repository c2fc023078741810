// Signatures on threads of their own, handed over in batches. Waking a thread costs a system call
// and, in a virtual machine, an interrupt: libuv's pool pays it for every signature, these threads
// once for all the signatures one turn of the event loop asked for.
import type { KeyObject, SignKeyObjectInput } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** What `node:crypto`'s sign() takes: a digest name (null for EdDSA) and the key with its options. */
export interface SignatureKey {
  digest: 'sha256' | null;
  input: KeyObject | SignKeyObjectInput;
}

/** A key as the threads know it: by a number, sent along the first time a thread needs it. */
export interface KeyHandle {
  readonly id: number;
  readonly key: SignatureKey;
}

let nextKeyId = 1;

export function keyHandle(key: SignatureKey): KeyHandle {
  return { id: nextKeyId++, key };
}

// Plain JavaScript, evaluated in each thread: no loader or build step is involved, and no require(),
// which a thread started with --input-type=module would not have.
export const SIGNING_THREAD_SOURCE = `
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const { sign } = process.getBuiltinModule('node:crypto');
const keys = new Map();
parentPort.on('message', ({ number, add, batch, forget }) => {
  for (const [id, key] of add) keys.set(id, key);
  const signatures = new Array(batch.length / 2);
  for (let i = 0; i < batch.length; i += 2) {
    const key = keys.get(batch[i]);
    try {
      signatures[i / 2] = sign(key.digest, Buffer.from(batch[i + 1]), key.input).toString('base64url');
    } catch (error) {
      signatures[i / 2] = { error: String(error && error.message) };
    }
  }
  for (const id of forget) keys.delete(id);
  parentPort.postMessage({ number, signatures });
});
`;

/** A thread's answer to batch `number`: a signature, or why it failed, for each entry in order. */
interface Answer {
  number: number;
  signatures: (string | { error: string })[];
}

interface Waiting {
  resolve(signature: string): void;
  reject(error: Error): void;
}

const closedError = () => new Error('the signing threads are closed');

/** Keys a thread holds at once (more while one batch needs more); one let go is sent again if used again. */
const KEYS_PER_THREAD = 8;

class SigningThread {
  private readonly worker: Worker;
  /** the batches sent and not yet answered, oldest first */
  private readonly sent: { number: number; waiting: Waiting[] }[] = [];
  /** the keys the thread holds, least recently used first, with the number of the batch that last used each */
  private keys = new Map<number, number>();
  private batches = 0;
  pending = 0;
  private dead = false;

  constructor(
    source: string,
    private readonly onExit: (thread: SigningThread) => void,
  ) {
    this.worker = new Worker(source, { eval: true, name: 'jws-signer' });
    this.worker.unref();
    this.worker.on('message', (answer: Answer) => this.answered(answer));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', () => this.fail(new Error('a signing thread exited')));
  }

  /** Sends one batch; if it cannot be sent (a key that cannot be copied to the thread), throws and changes nothing. */
  send(handles: KeyHandle[], data: string[], waiting: Waiting[]): void {
    const number = this.batches + 1;
    const add: [number, SignatureKey][] = [];
    const used = new Map(this.keys);
    const batch: (number | string)[] = new Array(handles.length * 2);
    for (let i = 0; i < handles.length; i++) {
      const { id, key } = handles[i]!;
      const last = used.get(id);
      if (last === undefined) add.push([id, key]);
      if (last !== number) {
        used.delete(id);
        used.set(id, number);
      }
      batch[2 * i] = id;
      batch[2 * i + 1] = data[i]!;
    }
    const forget: number[] = [];
    for (const [id, last] of used) {
      if (used.size <= KEYS_PER_THREAD || last === number) break;
      used.delete(id);
      forget.push(id);
    }
    this.worker.postMessage({ number, add, batch, forget });
    this.batches = number;
    this.keys = used;
    if (this.sent.length === 0) this.worker.ref();
    this.sent.push({ number, waiting });
    this.pending += waiting.length;
  }

  async close(): Promise<void> {
    this.fail(closedError());
    await this.worker.terminate();
  }

  private answered({ number, signatures }: Answer): void {
    if (this.sent[0]?.number !== number) {
      this.fail(new Error('a signing thread answered out of turn'));
      void this.worker.terminate();
      return;
    }
    const { waiting } = this.sent.shift()!;
    this.pending -= waiting.length;
    if (this.sent.length === 0) this.worker.unref();
    for (let i = 0; i < waiting.length; i++) {
      const signature = signatures[i];
      if (typeof signature === 'string') waiting[i]!.resolve(signature);
      else waiting[i]!.reject(new Error(`signing failed: ${signature?.error ?? 'no answer'}`));
    }
  }

  private fail(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const { waiting } of this.sent.splice(0)) for (const w of waiting) w.reject(error);
    this.pending = 0;
    this.worker.unref();
    this.onExit(this);
  }
}

const WARM_UP_SIGNATURES_PER_THREAD = 16;

/**
 * Collects the signatures asked for during one turn of the event loop and shares them out, one
 * message per thread, among its threads, least busy first: all of them work on one turn's batch
 * (for RSA, a batch on a single thread would keep the other cores idle while requests wait). Each
 * thread signs its part in order and answers with one message. Threads start when first needed and
 * do not keep the process alive while idle; one that dies fails its outstanding signatures and is
 * replaced by the next batch.
 *
 * A pool may cap the signatures in one message (`perMessage`). Under load one turn can read a request
 * from every connection at once; handed over as one batch, the thread would start on it only once the
 * event loop had read them all, and answer none before it had signed them all, while the event loop
 * waits and the load's clients wait for it: the work moves in lock-step, a core idle at each step. With
 * a cap, a full message leaves as soon as the turn has asked for that many, and comes back as soon as
 * those are signed, so that reading, signing and answering overlap.
 */
export class SigningThreads {
  private readonly threads: SigningThread[] = [];
  private handles: KeyHandle[] = [];
  private data: string[] = [];
  private waiting: Waiting[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    /** how many threads it runs at most; a turn's signatures are shared among that many */
    private size: number,
    /** what each thread runs (tests give one that fails) */
    private readonly source = SIGNING_THREAD_SOURCE,
    /** the most signatures one message carries */
    private readonly perMessage = Number.POSITIVE_INFINITY,
  ) {
    if (!(perMessage >= 1)) throw new RangeError('a signing message carries at least one signature');
  }

  /** The signature of `data` (base64url) with the handle's key. */
  sign(handle: KeyHandle, data: string): Promise<string> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.handles.push(handle);
      this.data.push(data);
      this.waiting.push({ resolve, reject });
      if (this.waiting.length >= this.perMessage) this.sendQueued();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** How many threads it runs at most. */
  get limit(): number {
    return this.size;
  }

  /** Sets how many threads it runs at most, before the first signature: threads already running stay. */
  setLimit(size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('a signing pool needs at least one thread');
    this.size = size;
  }

  /** The threads running now. */
  get running(): number {
    return this.threads.length;
  }

  /**
   * Signs throwaway data with `handle`'s key on every thread there is to be, so that each is running,
   * holds the key and has signed before a request needs it. The signatures are dropped.
   */
  async warmUp(handle: KeyHandle): Promise<void> {
    const throwaway = Buffer.from('{}').toString('base64url');
    await Promise.all(Array.from({ length: this.size * WARM_UP_SIGNATURES_PER_THREAD }, () => this.sign(handle, throwaway)));
  }

  /** Ends the threads; signatures still outstanding are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const waiting = this.waiting;
    this.handles = [];
    this.data = [];
    this.waiting = [];
    for (const w of waiting) w.reject(closedError());
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.close()));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.sendQueued();
  };

  private sendQueued(): void {
    const { handles, data, waiting } = this;
    if (waiting.length === 0) return;
    this.handles = [];
    this.data = [];
    this.waiting = [];
    const parts = Math.min(this.size, waiting.length);
    const share = Math.ceil(waiting.length / parts);
    for (let start = 0; start < waiting.length; start += share) {
      const end = start + share;
      const part = waiting.slice(start, end);
      try {
        this.leastBusy().send(handles.slice(start, end), data.slice(start, end), part);
      } catch (error) {
        const refused = new Error(`a signing batch could not be sent: ${(error as { message?: string }).message ?? String(error)}`);
        for (const w of part) w.reject(refused);
      }
    }
  }

  private leastBusy(): SigningThread {
    let best: SigningThread | undefined;
    for (const thread of this.threads) if (!best || thread.pending < best.pending) best = thread;
    if (best && (best.pending === 0 || this.threads.length >= this.size)) return best;
    const thread = new SigningThread(this.source, (dead) => {
      const at = this.threads.indexOf(dead);
      if (at >= 0) this.threads.splice(at, 1);
    });
    this.threads.push(thread);
    return thread;
  }
}
