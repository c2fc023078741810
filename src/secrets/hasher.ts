import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { ConcurrencyLimiter, type Lane } from './limiter.ts';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** argon2id hashing of secrets; the only module that touches argon2. */
export class SecretHasher {
  private readonly limiter: ConcurrencyLimiter;
  private dummyHash: Promise<string> | undefined;
  /** argon2 verifications run so far (real and dummy): each failed sign-in must cost exactly one */
  verifications = 0;

  constructor(
    private readonly params: Argon2Params,
    limits = { maxRunning: 8, maxWaiting: 256 },
  ) {
    this.limiter = new ConcurrencyLimiter(limits.maxRunning, limits.maxWaiting);
  }

  hash(secret: string): Promise<string> {
    return this.limiter.run(() => argon2.hash(secret, { type: argon2.argon2id, ...this.params }));
  }

  /** Constant-time inside argon2; false for a malformed hash rather than an exception. */
  verify(hash: string, secret: string, lane: Lane = 'normal'): Promise<boolean> {
    return this.limiter.run(async () => {
      this.verifications++;
      try {
        return await argon2.verify(hash, secret);
      } catch {
        return false;
      }
    }, lane);
  }

  /** A hash of nothing anyone holds: verifying against it spends the same work as a real verification. */
  dummy(): Promise<string> {
    this.dummyHash ??= argon2.hash(randomBytes(32).toString('base64url'), { type: argon2.argon2id, ...this.params });
    return this.dummyHash;
  }

  /** Spends the same work as a real verification, for callers that do not exist. */
  async verifyDummy(secret: string): Promise<false> {
    await this.verify(await this.dummy(), secret);
    return false;
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

  needsRehash(hash: string): boolean {
    if (!hash.startsWith('$argon2')) return false;
    if (!hash.startsWith('$argon2id$')) return true;
    try {
      return argon2.needsRehash(hash, { ...this.params, version: 0x13 });
    } catch {
      return false;
    }
  }
}
