// Failed-login throttling: failures are counted per key (a user name at one client address,
// or a client address) within a sliding-start window; a key that reached its limit is refused
// until the window has passed. The table is bounded: the least recently failed keys go first,
// and a key keeps its place only by failing again, so a spray of new names cannot wipe it.

export interface ThrottleCheck {
  key: string;
  /** Failures within the window after which this key is refused. */
  limit: number;
}

export interface ThrottleOptions {
  windowMs?: number;
  /** Most keys remembered at once (about 100 bytes each). */
  maxKeys?: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();
  /** Attempts being checked now, per key: counted like failures until they are decided. */
  private readonly inflight = new Map<string, number>();
  readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(opts: ThrottleOptions = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  get size(): number {
    return this.failures.size;
  }

  /** Seconds to wait before trying again, or 0 when an attempt is allowed. */
  retryAfter(checks: ThrottleCheck[], now = Date.now()): number {
    let wait = 0;
    for (const { key, limit } of checks) {
      const pending = this.inflight.get(key) ?? 0;
      let f = this.failures.get(key);
      if (f && now - f.since > this.windowMs) {
        this.failures.delete(key);
        f = undefined;
      }
      if ((f?.count ?? 0) + pending < limit) continue;
      // Attempts still being checked may all fail: wait for them (a second), or for the window.
      wait = Math.max(wait, f && f.count >= limit ? Math.ceil((f.since + this.windowMs - now) / 1000) : 1);
    }
    return wait;
  }

  /**
   * An attempt on `keys` is being checked: it counts against their limits until `settle`, so
   * that attempts sent all at once cannot all pass the check before any has failed.
   */
  begin(keys: string[]): void {
    for (const key of keys) this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
  }

  settle(keys: string[]): void {
    for (const key of keys) {
      const n = (this.inflight.get(key) ?? 1) - 1;
      if (n > 0) this.inflight.set(key, n);
      else this.inflight.delete(key);
    }
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const f = this.failures.get(key);
      // Re-inserted so the Map's order is least recently failed first.
      this.failures.delete(key);
      this.failures.set(key, !f || now - f.since > this.windowMs ? { count: 1, since: now } : { count: f.count + 1, since: f.since });
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break;
      this.failures.delete(key);
    }
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }
}

/**
 * The part of a client address a throttle counts: an IPv4 address, or the /64 network of an
 * IPv6 address (one client usually holds a whole /64, so counting single addresses would let
 * it take a fresh one per attempt).
 */
export function throttleAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
