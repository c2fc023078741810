import type { KeyObject, webcrypto } from 'node:crypto';
import { keyedDigest } from '../secrets/keyed-digest.ts';

type Key = KeyObject | webcrypto.CryptoKey;

interface Entry {
  /** the very key object that verified the signature */
  key: Key;
  alg: string;
  until: number;
}

/** However long a JWT lives, its entry lasts at most this long. */
const MAX_ENTRY_MS = 10 * 60_000;

/**
 * JWTs whose signature verified, for JWTs presented again and again: a Kubernetes or CI token is
 * reused for its whole lifetime. An entry is keyed by the keyed digest of the whole JWT (the JWT
 * itself is never kept) and remembers the key object that verified it; it counts only while that
 * same object is still among the keys trusted for the JWT, so a JWKS fetched anew, a certificate
 * removed or a source deleted makes it miss. Only the signature check is skipped: the
 * header rules and the claims are checked on every presentation. An entry lasts until the JWT's
 * exp, 10 minutes at most; beyond `maxEntries` the least recently used goes. A failure is never
 * remembered.
 */
export class VerifiedSignatures {
  private readonly keyed = keyedDigest();
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 10_000) {}

  digest(token: string): string {
    return this.keyed(token);
  }

  /** The candidate that verified this JWT before, if it is still trusted and the entry is live. */
  verifiedBy<C extends { key: Key }>(digest: string, alg: string, candidates: C[], nowMs: number): C | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    if (entry.until <= nowMs) {
      this.entries.delete(digest);
      return undefined;
    }
    if (entry.alg !== alg) return undefined;
    const candidate = candidates.find((c) => c.key === entry.key);
    if (candidate) {
      // the most recently used go last: a burst of new JWTs evicts the idle ones, not those in use
      this.entries.delete(digest);
      this.entries.set(digest, entry);
    }
    return candidate;
  }

  remember(digest: string, key: Key, alg: string, expSeconds: number, nowMs: number): void {
    const until = Math.min(expSeconds * 1000, nowMs + MAX_ENTRY_MS);
    if (until <= nowMs) return;
    this.entries.delete(digest);
    this.dropExpired(nowMs);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(digest, { key, alg, until });
  }

  /** Lapsed entries at the head go, so that they hold no retired key object until they are evicted. */
  private dropExpired(nowMs: number): void {
    for (const [digest, entry] of this.entries) {
      if (entry.until > nowMs) return;
      this.entries.delete(digest);
    }
  }
}
