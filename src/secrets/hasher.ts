import { randomBytes } from 'node:crypto';
import { hashParameters, inlineArgon2, type Argon2Engine, type Argon2Params } from './argon2-engine.ts';
import { ConcurrencyLimiter, type Lane } from './limiter.ts';
import { metrics } from '../metrics/recorder.ts';

export type { Argon2Params } from './argon2-engine.ts';

/** argon2id hashing of secrets; with argon2-engine.ts, the only module that touches argon2. */
export class SecretHasher {
  private readonly limiter: ConcurrencyLimiter;
  private dummyHash: Promise<string> | undefined;
  /** argon2 verifications run so far (real and dummy): each failed sign-in must cost exactly one */
  verifications = 0;

  constructor(
    private readonly params: Argon2Params,
    limits = { maxRunning: 8, maxWaiting: 256 },
    private readonly engine: Argon2Engine = inlineArgon2,
  ) {
    this.limiter = new ConcurrencyLimiter(limits.maxRunning, limits.maxWaiting);
  }

  hash(secret: string): Promise<string> {
    return this.limiter.run(() => this.engine.hash(secret, this.params));
  }

  /** Constant-time inside argon2; false for a malformed hash rather than an exception. */
  verify(hash: string, secret: string, lane: Lane = 'normal'): Promise<boolean> {
    return this.limiter.run(async () => {
      this.verifications++;
      const matched = await this.engine.verify(hash, secret);
      metrics.argon2Verified(matched);
      return matched;
    }, lane);
  }

  /** argon2 computations waiting for a thread, per lane. */
  queueDepth(): { priority: number; normal: number } {
    return this.limiter.queued();
  }

  /** A hash of nothing anyone holds: verifying against it spends the same work as a real verification. */
  dummy(): Promise<string> {
    this.dummyHash ??= this.engine.hash(randomBytes(32).toString('base64url'), this.params);
    return this.dummyHash;
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  private readonly rehashing = new Set<string>();

  /**
   * When `hash` was made with other parameters, hashes `secret` anew and hands the result to
   * `store`, in the background and at most once at a time per credential.
   */
  rehashIfNeeded(credential: string, hash: string, secret: string, store: (hash: string) => Promise<void>, onError: (error: unknown) => void): void {
    if (!this.needsRehash(hash) || this.rehashing.has(credential)) return;
    this.rehashing.add(credential);
    void this.hash(secret)
      .then(store)
      .catch(onError)
      .finally(() => this.rehashing.delete(credential));
  }

  /** True for an argon2 hash of another variant, version or cost than the configured ones. */
  needsRehash(hash: string): boolean {
    const parsed = hashParameters(hash);
    if (!parsed) return false;
    const { memoryCost, timeCost, parallelism } = parsed.params;
    return (
      parsed.type !== 'argon2id' ||
      parsed.version !== 19 ||
      memoryCost !== this.params.memoryCost ||
      timeCost !== this.params.timeCost ||
      parallelism !== this.params.parallelism
    );
  }
}
