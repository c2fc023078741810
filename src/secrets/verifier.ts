import { metrics } from '../metrics/recorder.ts';
import type { SecretHasher } from './hasher.ts';
import type { Lane } from './limiter.ts';
import type { VerifiedSecretCache } from './verified-cache.ts';

export type Verification = 'cached' | 'verified' | 'failed';

/**
 * Checks presented secrets against stored argon2 hashes. A secret that verified recently against
 * the same credential and hash is a cache hit; otherwise one argon2 run is shared by every
 * concurrent check of the same secret against the same hash (single flight), queued ahead of
 * unknown work when the secret verified recently for the same credential.
 */
export class SecretVerifier {
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly hasher: SecretHasher,
    private readonly cache: VerifiedSecretCache,
  ) {}

  /**
   * `name` is the credential as the caller presented it (see caller/credential-name.ts); a changed
   * hash never hits an old entry. `verified` means argon2 ran (and found a match) for this check
   * or one it joined.
   */
  async verify(name: string, hash: string, secret: string): Promise<Verification> {
    const entry = `${name}#${hash}`;
    const cached = this.cache.has(entry, secret);
    metrics.verifiedSecretCache(cached);
    if (cached) return 'cached';
    const digest = this.cache.digest(secret);
    if (!(await this.once(entry, hash, secret, digest, this.cache.isRecent(digest, name) ? 'priority' : 'normal'))) return 'failed';
    this.cache.remember(entry, secret);
    return 'verified';
  }

  /** The same argon2 work as a real check, for credentials that do not exist. */
  async verifyDummy(secret: string): Promise<false> {
    await this.once('(dummy)', await this.hasher.dummy(), secret, this.cache.digest(secret), 'normal');
    return false;
  }

  /**
   * The argon2 work of a real check against a credential that cannot be used (revoked, expired,
   * bound elsewhere), never answered from the cache: a refusal costs the same whoever is refused.
   */
  async spend(name: string, hash: string, secret: string): Promise<void> {
    await this.once(`${name}#${hash}`, hash, secret, this.cache.digest(secret), 'normal');
  }

  /** True when the secret is a live cache hit for a credential of this name: presenting it so costs nothing. */
  knows(secret: string, name: string): boolean {
    return this.cache.knows(secret, name);
  }

  private once(entry: string, hash: string, secret: string, digest: string, lane: Lane): Promise<boolean> {
    const key = `${entry}\n${digest}`;
    let running = this.inflight.get(key);
    if (!running) {
      running = this.hasher.verify(hash, secret, lane).finally(() => this.inflight.delete(key));
      this.inflight.set(key, running);
    }
    return running;
  }
}
