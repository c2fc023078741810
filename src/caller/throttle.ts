import { OAuthError } from '../errors.ts';

const WINDOW_MS = 60_000;

/**
 * Counts failed client authentications per client IP in one-minute windows; past the limit,
 * the IP gets 429 slow_down before any argon2 work is spent on it. Counted per process.
 */
export class FailureThrottle {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxTracked = 100_000,
  ) {}

  /** Throws slow_down when the IP has used up its failures for this window. */
  check(ip: string, now = Date.now()): void {
    if (this.perMinute <= 0) return;
    const window = this.windows.get(ip);
    if (!window || now - window.start >= WINDOW_MS || window.failures < this.perMinute) return;
    const retryAfter = Math.ceil((window.start + WINDOW_MS - now) / 1000);
    throw new OAuthError('slow_down', 'too many failed authentications from this address; retry later', 429, 'throttled', { 'Retry-After': String(retryAfter) });
  }

  recordFailure(ip: string, now = Date.now()): void {
    if (this.perMinute <= 0) return;
    const window = this.windows.get(ip);
    if (window && now - window.start < WINDOW_MS) {
      window.failures++;
      return;
    }
    if (this.windows.size >= this.maxTracked) this.evictExpired(now);
    this.windows.set(ip, { start: now, failures: 1 });
  }

  private evictExpired(now: number): void {
    for (const [ip, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(ip);
    if (this.windows.size >= this.maxTracked) this.windows.clear();
  }
}
