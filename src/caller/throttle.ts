import { OAuthError } from '../errors.ts';

const WINDOW_MS = 60_000;

interface Window {
  start: number;
  failures: number;
}

export interface ThrottleLimits {
  /** failures per minute of one caller (client_id, or client_id and username) from one address */
  perCaller: number;
  /** failures per minute from one address, whoever they named */
  perAddress: number;
}

/**
 * Counts failed authentications in one-minute windows, per caller from an address and per
 * address; past either limit, further attempts get 429 slow_down before any argon2 work is spent.
 * A caller that keeps failing (a misconfigured client) uses up its own budget long before its
 * address's, so its neighbours behind the same address or proxy keep working. Counted per process;
 * callers are named as caller/credential-name.ts names them (never a caller's arbitrary text).
 */
export class FailureThrottle {
  private readonly windows = new Map<string, Window>();
  private sweptAt = 0;

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly maxTracked = 100_000,
  ) {}

  private get off(): boolean {
    return this.limits.perCaller <= 0;
  }

  /** Throws slow_down when the caller or its address has used up its failures for this window. */
  check(ip: string, caller: string, now = Date.now()): void {
    const refusal = this.refusal(ip, caller, now);
    if (refusal) throw refusal;
  }

  /** The slow_down a request from this caller and address gets now, or null. */
  refusal(ip: string, caller: string, now = Date.now()): OAuthError | null {
    if (this.off) return null;
    const exhausted = this.exhausted(callerKey(ip, caller), this.limits.perCaller, now) ?? this.exhausted(ip, this.limits.perAddress, now);
    if (exhausted === undefined) return null;
    const retryAfter = Math.max(1, Math.ceil((exhausted.start + WINDOW_MS - now) / 1000));
    return new OAuthError('slow_down', 'too many failed authentications; retry later', 429, 'throttled', { 'Retry-After': String(retryAfter) });
  }

  recordFailure(ip: string, caller: string, now = Date.now()): void {
    if (this.off) return;
    this.count(callerKey(ip, caller), now);
    this.count(ip, now);
  }

  private exhausted(key: string, limit: number, now: number): Window | undefined {
    const window = this.windows.get(key);
    return window && now - window.start < WINDOW_MS && window.failures >= limit ? window : undefined;
  }

  private count(key: string, now: number): void {
    // windows that are over are dropped once a minute, so memory follows the attack, not its peak
    if (now - this.sweptAt >= WINDOW_MS) this.evictExpired(now);
    const window = this.windows.get(key);
    if (window && now - window.start < WINDOW_MS) {
      window.failures++;
      return;
    }
    if (this.windows.size >= this.maxTracked) this.evictExpired(now);
    this.windows.set(key, { start: now, failures: 1 });
  }

  private evictExpired(now: number): void {
    this.sweptAt = now;
    for (const [key, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(key);
    if (this.windows.size >= this.maxTracked) this.windows.clear();
  }
}

/** Addresses never contain a newline, so the two key kinds cannot collide. */
function callerKey(ip: string, caller: string): string {
  return `${ip}\n${caller}`;
}
