import { keyedDigest } from './keyed-digest.ts';

const DAY_MS = 86_400_000;

interface Entry {
  credential: string;
  /** until then a presentation of the secret skips argon2 */
  trustedUntil: number;
  /** until then a re-verification of the secret goes ahead of unknown work */
  recentUntil: number;
}

/**
 * Remembers, for a bounded time, that a presented secret verified against one credential, so a
 * client presenting the same secret again skips argon2. Entries are keyed by the secret's keyed
 * digest (the secret itself is never kept). An entry's credential is `<name>#<stored hash>`, the
 * name being what the caller presented (its client_id, or client_id and username), so a rotation
 * or re-hash makes old entries miss without any clearing, an admin change to anything else leaves
 * them alone, and a secret presented under another name is a stranger.
 */
export class VerifiedSecretCache {
  private readonly keyed = keyedDigest();
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly recentMs = DAY_MS,
  ) {}

  /** The keyed digest of a secret: what stands for the secret in memory. */
  digest(secret: string): string {
    return this.keyed(secret);
  }

  has(credential: string, secret: string, now = Date.now()): boolean {
    const entry = this.trusted(this.digest(secret), now);
    return entry !== undefined && entry.credential === credential;
  }

  /** True when the secret is a live hit for a credential of this name: presenting it so costs no argon2. */
  knows(secret: string, name: string, now = Date.now()): boolean {
    return named(this.trusted(this.digest(secret), now), name);
  }

  /** True when the secret verified for a credential of this name within the last day (its entry may have lapsed since). */
  isRecent(digest: string, name: string, now = Date.now()): boolean {
    return named(this.live(digest, now), name);
  }

  remember(credential: string, secret: string, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    const digest = this.digest(secret);
    this.entries.delete(digest);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(digest, { credential, trustedUntil: now + this.ttlMs, recentUntil: now + Math.max(this.ttlMs, this.recentMs) });
  }

  clear(): void {
    this.entries.clear();
  }

  /** The entry while it is trusted; once lapsed it never is again, whatever clock asks later. */
  private trusted(digest: string, now: number): Entry | undefined {
    const entry = this.live(digest, now);
    if (!entry || entry.trustedUntil > now) return entry;
    entry.trustedUntil = 0;
    return undefined;
  }

  private live(digest: string, now: number): Entry | undefined {
    const entry = this.entries.get(digest);
    if (entry && entry.recentUntil <= now) {
      this.entries.delete(digest);
      return undefined;
    }
    return entry;
  }
}

function named(entry: Entry | undefined, name: string): boolean {
  return entry !== undefined && entry.credential.startsWith(`${name}#`);
}
