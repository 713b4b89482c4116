// Failed-login throttling: after `limit` failures from one client address (or for one user
// name) within `windowMs`, further attempts are refused until the window passes.

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(limit = 10, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Seconds to wait before trying again, or 0 when an attempt is allowed. */
  retryAfter(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const f = this.failures.get(key);
      if (!f) continue;
      if (now - f.since > this.windowMs) {
        this.failures.delete(key);
        continue;
      }
      if (f.count >= this.limit) wait = Math.max(wait, Math.ceil((f.since + this.windowMs - now) / 1000));
    }
    return wait;
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const f = this.failures.get(key);
      if (!f || now - f.since > this.windowMs) this.failures.set(key, { count: 1, since: now });
      else f.count++;
    }
    if (this.failures.size > 100_000) this.failures.clear(); // bound memory under a spray of names
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }
}
