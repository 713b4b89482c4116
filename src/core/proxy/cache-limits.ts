// Bounds on what a proxy repository keeps of its upstream's content: the option parsers
// (`maxCacheBytes: "20GiB"`, `evictUnusedAfter: "30d"`) and the choice of what to evict, a
// pure function over the cached files' sizes and last uses.
import { parseDuration as parseDurationText } from '../cooldown.ts';
import { badRequest } from '../errors.ts';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** Bytes from a whole number or a string such as "20GiB", "500 MB", "1.5G" (K/M/G/T and KiB… are powers of 1024, kB/MB… of 1000). */
export function parseByteSize(v: unknown, name: string): number {
  const bad = () => badRequest(`${name} must be a number of bytes or a size such as "20GiB" or "500MB", more than 0; got ${JSON.stringify(v)}`);
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
    const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
    if (!m || unit === undefined) throw bad();
    n = Math.floor(Number(m[1]) * unit);
  } else throw bad();
  if (!Number.isSafeInteger(n) || n <= 0) throw bad();
  return n;
}

/** Seconds from a number of seconds or a duration as `minAge` takes it ("30d", "12h", "1d12h", "2w"; src/core/cooldown.ts). */
export function parseDuration(v: unknown, name: string): number {
  const ms = typeof v === 'string' ? parseDurationText(v) : typeof v === 'number' && Number.isFinite(v) ? v * 1000 : null;
  if (ms === null || !(ms > 0)) throw badRequest(`${name} must be a duration such as "30d", "12h" or "1d12h" (s, m, h, d, w), or a number of seconds, more than 0; got ${JSON.stringify(v)}`);
  return ms / 1000;
}

export interface EvictionCandidate {
  id: number;
  size: number;
  /** Milliseconds since the epoch of its last recorded use (or of its caching). */
  lastUsed: number;
}

export interface EvictionLimits {
  maxBytes?: number;
  /** Evict what was not used for this long (ms). */
  unusedForMs?: number;
  now: number;
}

export interface EvictionChoice<T> {
  /** Least recently used first. */
  evict: T[];
  /** Bytes of all candidates, and of those kept. */
  totalBytes: number;
  keptBytes: number;
}

/**
 * What to evict: everything unused for longer than `unusedForMs`, then the least recently
 * used until the rest fits in `maxBytes`. Ties go by id (the older row first), so the choice
 * is the same from run to run.
 */
export function selectEvictions<T extends EvictionCandidate>(rows: readonly T[], limits: EvictionLimits): EvictionChoice<T> {
  const sorted = [...rows].sort((a, b) => a.lastUsed - b.lastUsed || a.id - b.id);
  const totalBytes = sorted.reduce((n, r) => n + r.size, 0);
  let kept = totalBytes;
  const evict: T[] = [];
  const cutoff = limits.unusedForMs !== undefined ? limits.now - limits.unusedForMs : -Infinity;
  for (const r of sorted) {
    const stale = r.lastUsed < cutoff;
    const over = limits.maxBytes !== undefined && kept > limits.maxBytes;
    if (!stale && !over) break; // sorted by last use: nothing later is staler, and the rest fits
    evict.push(r);
    kept -= r.size;
  }
  return { evict, totalBytes, keptBytes: kept };
}
