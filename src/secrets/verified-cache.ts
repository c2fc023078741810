import { createHmac, randomBytes } from 'node:crypto';

/**
 * Remembers, for a bounded time, that a presented secret verified against one credential, so a
 * client presenting the same secret again skips argon2. Entries are keyed by an HMAC of the secret
 * under a per-process random key (the secret itself is never kept) and are dropped wholesale
 * whenever admin state changes (a revocation or rotation among them).
 */
export class VerifiedSecretCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { credential: string; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  private digest(secret: string): string {
    return createHmac('sha256', this.key).update(secret).digest('base64url');
  }

  has(credential: string, secret: string, now = Date.now()): boolean {
    const digest = this.digest(secret);
    const entry = this.entries.get(digest);
    if (!entry) return false;
    if (entry.expiresAt <= now) {
      this.entries.delete(digest);
      return false;
    }
    return entry.credential === credential;
  }

  remember(credential: string, secret: string, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    const digest = this.digest(secret);
    this.entries.delete(digest);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(digest, { credential, expiresAt: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
