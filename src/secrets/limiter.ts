import { temporarilyUnavailable } from '../errors.ts';
import { metrics } from '../metrics/recorder.ts';

/**
 * Which queue a piece of work waits in. `priority`: checking a secret that verified recently, so a
 * client known to hold a valid secret is never queued behind guesses; `normal`: everything else
 * (unknown clients, failing secrets and first verifications look alike on purpose).
 */
export type Lane = 'priority' | 'normal';

/**
 * Bounds how many argon2 computations run and wait at once, so a flood cannot exhaust memory.
 * Each lane has its own bounded queue, and a freed slot goes to priority work first: a flood of
 * normal work can fill its own queue, never the priority one, and never delays priority work by
 * more than the computations already running.
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiting: Record<Lane, (() => void)[]> = { priority: [], normal: [] };

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
  ) {}

  queued(): { priority: number; normal: number } {
    return { priority: this.waiting.priority.length, normal: this.waiting.normal.length };
  }

  async run<T>(work: () => Promise<T>, lane: Lane = 'normal'): Promise<T> {
    if (this.running >= this.maxRunning) {
      const queue = this.waiting[lane];
      if (queue.length >= this.maxWaiting) {
        metrics.argon2Refused();
        throw temporarilyUnavailable('the server is busy; retry shortly');
      }
      await new Promise<void>((resolve) => queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.priority.shift() ?? this.waiting.normal.shift();
      if (next) next();
      else this.running--;
    }
  }
}
