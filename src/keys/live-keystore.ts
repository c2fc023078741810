import type { Logger } from '../logger.ts';
import type { CachedState } from '../store/cached-state.ts';
import { listSigningKeys } from '../store/keys.ts';
import type { Db } from '../store/prisma.ts';
import { Keystore } from './keystore.ts';

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;

/**
 * The keystore a serving process uses, loaded at start and again after every admin change (a
 * rotation, promotion, removal or revocation moves the state version like any other), so every
 * worker signs with a new active key within one poll of the state. A reload that fails is tried
 * again until one succeeds (the process is not ready meanwhile): a revoked key must not go on
 * signing until some later change happens to come along.
 */
export class LiveKeystore {
  private current!: Keystore;
  /** the newest reload started; an older one that finishes later does not overwrite it */
  private generation = 0;
  private failing: { since: Date; error: string } | null = null;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;

  private constructor(
    private readonly db: Db,
    private readonly kek: Buffer,
    private readonly log: Logger,
  ) {}

  /**
   * Call after the state's version has been read (CachedState.start): listening first and loading
   * second means no change can fall between the keys loaded and the changes heard of.
   */
  static async open(db: Db, kek: Buffer, state: CachedState, log: Logger): Promise<LiveKeystore> {
    const live = new LiveKeystore(db, kek, log);
    state.onChange(() => void live.reload());
    live.current = await Keystore.load(await listSigningKeys(db), kek);
    return live;
  }

  get(): Keystore {
    return this.current;
  }

  /** Since when reloading fails, for readiness; null while the keys are current. */
  health(): { failingSince: Date | null; reason: string | null } {
    return { failingSince: this.failing?.since ?? null, reason: this.failing?.error ?? null };
  }

  async reload(): Promise<void> {
    const generation = ++this.generation;
    clearTimeout(this.retry);
    try {
      const loaded = await Keystore.load(await listSigningKeys(this.db), this.kek);
      if (generation !== this.generation) return;
      if (loaded.active && loaded.active.kid !== this.current.active?.kid) this.log.info({ kid: loaded.active.kid, alg: loaded.active.alg }, 'signing with a new key');
      this.current = loaded;
      this.failing = null;
      this.retryMs = RETRY_FIRST_MS;
    } catch (error) {
      if (generation !== this.generation) return;
      this.failing ??= { since: new Date(), error: (error as Error).message };
      this.log.error({ err: error, retry_ms: this.retryMs }, 'reloading signing keys failed; trying again');
      this.retry = setTimeout(() => void this.reload(), this.retryMs);
      this.retry.unref();
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    }
  }

  stop(): void {
    clearTimeout(this.retry);
  }
}
