import type { Logger } from '../logger.ts';
import type { CachedState } from '../store/cached-state.ts';
import { listSigningKeys } from '../store/keys.ts';
import type { Db } from '../store/prisma.ts';
import { Keystore } from './keystore.ts';

/**
 * The keystore a serving process uses, loaded at start and again after every admin change (a
 * rotation, promotion, removal or revocation moves the state version like any other), so every
 * worker signs with a new active key within one poll of the state.
 */
export class LiveKeystore {
  private constructor(
    private current: Keystore,
    private readonly db: Db,
    private readonly kek: Buffer,
    private readonly log: Logger,
  ) {}

  static async open(db: Db, kek: Buffer, state: CachedState, log: Logger): Promise<LiveKeystore> {
    const live = new LiveKeystore(await Keystore.load(await listSigningKeys(db), kek), db, kek, log);
    state.onChange(() => void live.reload());
    return live;
  }

  get(): Keystore {
    return this.current;
  }

  async reload(): Promise<void> {
    try {
      const next = await Keystore.load(await listSigningKeys(this.db), this.kek);
      if (next.active?.kid !== this.current.active?.kid && next.active) this.log.info({ kid: next.active.kid, alg: next.active.alg }, 'signing with a new key');
      this.current = next;
    } catch (error) {
      this.log.error({ err: error }, 'reloading signing keys failed; keeping the previous set');
    }
  }
}
