// How proxy repositories' cached upstream content is used, and keeping it within the bounds
// a repository sets (maxCacheBytes, evictUnusedAfter).
//
// A use is a GET of a cached file served to a client (a hit). It is noted in memory (a map
// lookup on the hot path, no database write) and written by `flush` (every scheduler tick and
// before each eviction), at most once per `recordEveryMs` (an hour) per file and process: the
// last use the database knows is therefore up to an hour old. Hits, misses (fetches from the
// upstream) and evictions are counted per repository for /-/metrics, per process.
//
// Eviction deletes the files' rows (with their companions, as a delete by hand does); gc frees
// the blobs later, and only those no other row references, so content shared with another
// repository stays. It runs under the repository's eviction lock (Sql.tryLock: on PostgreSQL
// an advisory lock, so one replica at a time), on the scheduler's sweep and after a fill that
// takes the repository over maxCacheBytes.
import { setTimeout as delay } from 'node:timers/promises';
import type { CacheUseStore } from '../../db/cache-use-store.ts';
import type { Sql } from '../../db/sql.ts';
import type { FormatPlugin } from '../format-plugin.ts';
import type { FileRow, Repository } from '../model.ts';
import { selectEvictions } from './cache-limits.ts';
import { proxyOptionsOf } from './options.ts';

export const RECORD_USE_EVERY_MS = 60 * 60_000;
export const EVICTION_SWEEP_MS = 10 * 60_000;
/** A run after a fill lists every cached file of the repository: at most one such run a second per repository, however many fills cross the limit. */
export const FILL_EVICTION_SPACING_MS = 1000;

export interface CacheCounters {
  hits: number;
  misses: number;
  evictions: number;
  evictedBytes: number;
}

export interface EvictionRun {
  evicted: number;
  bytes: number;
  /** Bytes of evictable content left. */
  keptBytes: number;
}

export interface CacheUsageDeps {
  sql: Sql;
  uses: CacheUseStore;
  pluginFor(repo: Repository): FormatPlugin;
  deleteFile(repo: Repository, path: string): Promise<void>;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

const hasLimits = (repo: Repository) => {
  if (repo.kind !== 'proxy') return false;
  const o = proxyOptionsOf(repo.options);
  return o.maxCacheBytes !== undefined || o.evictUnusedAfter !== undefined;
};

export class CacheUsage {
  private readonly deps: CacheUsageDeps;
  private readonly counters = new Map<number, CacheCounters>();
  /** When each file's use was last queued (ms), to write it at most once per recordEveryMs. */
  private readonly queued = new Map<number, number>();
  private pending = new Map<number, string>();
  private readonly running = new Map<number, Promise<EvictionRun | null>>();
  private readonly again = new Set<number>();
  /** Bytes of a repository that no eviction may free (index documents, mirrored files), as the last run found. */
  private readonly unevictable = new Map<number, number>();
  private readonly checks = new Set<Promise<void>>();
  private readonly fillPending = new Set<number>();
  private readonly lastFillRun = new Map<number, number>();
  private lastSweep = 0;
  /** Tests shorten it; a setting it is not. */
  recordEveryMs = RECORD_USE_EVERY_MS;

  constructor(deps: CacheUsageDeps) {
    this.deps = deps;
  }

  countersOf(repoId: number): CacheCounters {
    let c = this.counters.get(repoId);
    if (!c) this.counters.set(repoId, (c = { hits: 0, misses: 0, evictions: 0, evictedBytes: 0 }));
    return c;
  }

  /** A cached upstream file was served to a client (hosted files, with no upstream, are not counted). */
  served(file: FileRow, now = Date.now()): void {
    if (typeof file.meta.upstreamUrl !== 'string') return;
    this.countersOf(file.repoId).hits++;
    const last = this.queued.get(file.id);
    if (last !== undefined && now - last < this.recordEveryMs) return;
    if (this.queued.size > 1_000_000) this.queued.clear(); // worst case: a few extra writes
    this.queued.set(file.id, now);
    this.pending.set(file.id, new Date(now).toISOString());
  }

  /** A file was fetched from the upstream. */
  missed(repo: Repository): void {
    this.countersOf(repo.id).misses++;
  }

  /** Write the uses noted since the last flush. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending].map(([fileId, at]) => ({ fileId, at }));
    this.pending = new Map();
    await this.deps.uses.recordUses(batch);
  }

  /** A fetched file was stored: evict at once if the repository is now over its limit. */
  filled(repo: Repository): void {
    const max = repo.kind === 'proxy' ? proxyOptionsOf(repo.options).maxCacheBytes : undefined;
    if (max === undefined) return;
    // A cache that sits at its limit crosses it with every fill: one check waits per repository
    // (it sees the bytes of the fills that arrive meanwhile), spaced from the last such run.
    if (this.fillPending.has(repo.id)) return;
    this.fillPending.add(repo.id);
    let waiting = true;
    const check = (async () => {
      const wait = (this.lastFillRun.get(repo.id) ?? -Infinity) + FILL_EVICTION_SPACING_MS - Date.now();
      if (wait > 0) await delay(wait);
      waiting = false;
      this.fillPending.delete(repo.id);
      const r = await this.deps.sql.get('SELECT bytes FROM repo_stats WHERE repo_id = ?', [repo.id]);
      if (Number(r?.bytes ?? 0) - (this.unevictable.get(repo.id) ?? 0) > max) {
        this.lastFillRun.set(repo.id, Date.now());
        await this.evict(repo);
      }
    })().catch((err: Error) => this.deps.log.warn({ repo: repo.name, err: err.message }, 'evicting cached content failed'))
      .finally(() => {
        if (waiting) this.fillPending.delete(repo.id);
        this.checks.delete(check);
      });
    this.checks.add(check);
  }

  /** Resolves once the evictions under way (and those fills started) are done: for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.checks.size || this.running.size) await Promise.allSettled([...this.checks, ...this.running.values()]);
  }

  /** Evict what the repository's limits say (one run at a time per repository; a request during a run runs once more after it). */
  evict(repo: Repository, now?: number): Promise<EvictionRun | null> {
    const current = this.running.get(repo.id);
    if (current) {
      this.again.add(repo.id);
      return current;
    }
    const run = (async () => {
      let result: EvictionRun | null = null;
      do {
        this.again.delete(repo.id);
        result = await this.evictOnce(repo, now ?? Date.now());
      } while (this.again.has(repo.id));
      return result;
    })().finally(() => this.running.delete(repo.id));
    this.running.set(repo.id, run);
    return run;
  }

  private async evictOnce(repo: Repository, now: number): Promise<EvictionRun | null> {
    if (!hasLimits(repo)) return null;
    const opts = proxyOptionsOf(repo.options);
    await this.flush();
    const r = await this.deps.sql.tryLock(`cache-evict:${repo.id}`, async (lost) => {
      const plugin = this.deps.pluginFor(repo);
      const all = await this.deps.uses.listUses(repo.id);
      // A mirror's files are bounded by its requirements (a sync prunes them), not evicted.
      const evictable = all.filter((f) => !f.mirrored && !plugin.cachedIndexDocument?.(f.path));
      this.unevictable.set(repo.id, all.reduce((n, f) => n + f.size, 0) - evictable.reduce((n, f) => n + f.size, 0));
      const choice = selectEvictions(evictable.map((f) => ({ ...f, lastUsed: Date.parse(f.lastUsed) })), {
        maxBytes: opts.maxCacheBytes, unusedForMs: opts.evictUnusedAfter !== undefined ? opts.evictUnusedAfter * 1000 : undefined, now,
      });
      const run: EvictionRun = { evicted: 0, bytes: 0, keptBytes: choice.keptBytes };
      for (const f of choice.evict) {
        if (lost.aborted) break;
        try {
          await this.deps.deleteFile(repo, f.path);
        } catch (err) {
          if ((err as { status?: number }).status === 404) continue; // gone already (a companion, another replica)
          throw err;
        }
        run.evicted++;
        run.bytes += f.size;
      }
      const c = this.countersOf(repo.id);
      c.evictions += run.evicted;
      c.evictedBytes += run.bytes;
      if (run.evicted) this.deps.log.info({ repo: repo.name, evicted: run.evicted, bytes: run.bytes, keptBytes: run.keptBytes }, 'evicted cached upstream content');
      return run;
    });
    return r.ran ? r.value : null;
  }

  /** The scheduler's tick: write uses; every EVICTION_SWEEP_MS, evict in every repository with limits. */
  async tick(repos: Repository[], now = Date.now(), sweepEveryMs = EVICTION_SWEEP_MS): Promise<void> {
    await this.flush();
    if (now - this.lastSweep < sweepEveryMs) return;
    this.lastSweep = now;
    for (const repo of repos) {
      if (!hasLimits(repo)) continue;
      try {
        await this.evict(repo, now);
      } catch (err) {
        this.deps.log.warn({ repo: repo.name, err: (err as Error).message }, 'evicting cached content failed');
      }
    }
  }
}
