// Cached upstream metadata (pages, indexes, databases) for proxy repositories:
// fresh for `metadataTtl`, then revalidated; a remembered 404 for `negativeTtl`; when the
// upstream fails or times out, the last good copy is served and marked stale. Concurrent
// requests for one key share a single upstream request.
import type { CachedUpstreamEntry, ProxyCacheStore } from '../../db/proxy-cache-store.ts';
import type { Repository } from '../model.ts';
import type { ProxyOptions } from './options.ts';
import { UpstreamUnavailable } from './upstream.ts';

export type FetchOutcome =
  | { status: 200; body: Uint8Array; contentType: string | null; etag: string | null; lastModified: string | null }
  | { status: 304 }
  | { status: 404 };

export interface MetadataResult {
  /** Null when the upstream does not have it. */
  entry: CachedUpstreamEntry | null;
  /** Until when (ms) this answer is fresh; 0 when it is stale or offline. */
  freshUntil: number;
  /** The upstream could not be asked (down, or offline): this is the last copy known. */
  stale: boolean;
}

export class MetadataCache {
  private readonly cache: ProxyCacheStore;
  private readonly inflight = new Map<string, Promise<MetadataResult>>();
  // Recent entries live in memory, so a warm proxied page costs no database read; an entry
  // another process rewrites is forgotten through the change feed (Wharf calls forget).
  private readonly memo = new Map<string, CachedUpstreamEntry>();
  private memoBytes = 0;
  /**
   * Counts entries dropped from memory. A database read or write remembers its entry only if
   * nothing was dropped while it ran: the drop may stand for a newer write than the one it saw.
   */
  private drops = 0;
  private static readonly MEMO_MAX_BYTES = 64 * 1024 * 1024;

  constructor(cache: ProxyCacheStore) {
    this.cache = cache;
  }

  /** Drop a remembered entry another writer changed (`key` undefined: all of them). */
  dropMemo(repoId: number, key?: string): void {
    this.drops++;
    if (key === undefined) {
      this.memo.clear();
      this.memoBytes = 0;
      return;
    }
    const k = `${repoId}\0${key}`;
    const old = this.memo.get(k);
    if (!old) return;
    this.memo.delete(k);
    this.memoBytes -= old.body?.length ?? 0;
  }

  private async read(repo: Repository, key: string): Promise<CachedUpstreamEntry | undefined> {
    const k = `${repo.id}\0${key}`;
    const hit = this.memo.get(k);
    if (hit) return hit;
    const drops = this.drops;
    const e = await this.cache.get(repo.id, key);
    // A refresh that finished while this read ran left a newer entry.
    const newer = this.memo.get(k);
    if (newer) return newer;
    if (e && drops === this.drops) this.remember(k, e);
    return e;
  }

  private remember(k: string, e: CachedUpstreamEntry): void {
    const old = this.memo.get(k);
    if (old) this.memoBytes -= old.body?.length ?? 0;
    this.memo.set(k, e);
    this.memoBytes += e.body?.length ?? 0;
    if (this.memoBytes > MetadataCache.MEMO_MAX_BYTES) {
      for (const [key, v] of this.memo) {
        if (this.memoBytes <= MetadataCache.MEMO_MAX_BYTES / 2) break;
        this.memo.delete(key);
        this.memoBytes -= v.body?.length ?? 0;
      }
    }
  }

  private async write(repo: Repository, e: CachedUpstreamEntry): Promise<void> {
    const drops = this.drops;
    await this.cache.put(repo.id, e);
    if (drops === this.drops) this.remember(`${repo.id}\0${e.key}`, e);
  }

  /**
   * The entry for `key`, fetched with `fetcher` when missing or expired. The fetcher gets the
   * previous good entry (for conditional requests) and throws when the upstream fails or answers
   * something that is not a valid document of its kind (which is then never stored).
   */
  async get(repo: Repository, key: string, opts: ProxyOptions, fetcher: (prev: CachedUpstreamEntry | undefined) => Promise<FetchOutcome>): Promise<MetadataResult> {
    const prev = await this.read(repo, key);
    const now = Date.now();
    if (prev) {
      const ttl = (prev.status === 200 ? opts.metadataTtl : opts.negativeTtl) * 1000;
      if (now - prev.fetchedAt < ttl) return { entry: prev.status === 200 ? prev : null, stale: false, freshUntil: prev.fetchedAt + ttl };
    }
    if (opts.offline) return { entry: prev?.status === 200 ? prev : null, stale: prev !== undefined, freshUntil: 0 };
    const flightKey = `${repo.id}\0${key}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      flight = this.refresh(repo, key, prev, opts, fetcher).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    return flight;
  }

  private async refresh(repo: Repository, key: string, prev: CachedUpstreamEntry | undefined, opts: ProxyOptions, fetcher: (prev: CachedUpstreamEntry | undefined) => Promise<FetchOutcome>): Promise<MetadataResult> {
    const good = prev?.status === 200 ? prev : undefined;
    let outcome: FetchOutcome;
    try {
      outcome = await fetcher(good);
    } catch (err) {
      if (good) return { entry: good, stale: true, freshUntil: 0 };
      if (prev && prev.status === 404) return { entry: null, stale: true, freshUntil: 0 };
      throw err instanceof UpstreamUnavailable ? err : new UpstreamUnavailable((err as Error).message);
    }
    const now = Date.now();
    if (outcome.status === 304 && good) {
      const drops = this.drops;
      await this.cache.touch(repo.id, key, now);
      const entry = { ...good, fetchedAt: now };
      if (drops === this.drops) this.remember(`${repo.id}\0${key}`, entry);
      return { entry, stale: false, freshUntil: now + opts.metadataTtl * 1000 };
    }
    if (outcome.status === 200) {
      const entry: CachedUpstreamEntry = { key, status: 200, contentType: outcome.contentType, body: outcome.body, etag: outcome.etag, lastModified: outcome.lastModified, fetchedAt: now };
      await this.write(repo, entry);
      return { entry, stale: false, freshUntil: now + opts.metadataTtl * 1000 };
    }
    // 404, or a 304 we cannot use: remember the miss.
    await this.write(repo, { key, status: 404, contentType: null, body: null, etag: null, lastModified: null, fetchedAt: now });
    return { entry: null, stale: false, freshUntil: now + opts.negativeTtl * 1000 };
  }

  /** Forget an entry (e.g. when a mirror sync prunes a project). */
  async forget(repo: Repository, key: string): Promise<void> {
    await this.cache.delete(repo.id, key);
    this.drops++;
    const k = `${repo.id}\0${key}`;
    this.memoBytes -= this.memo.get(k)?.body?.length ?? 0;
    this.memo.delete(k);
  }
}

/** The common fetcher shape: GET with validators, a 200 body, a 304, or a 404. */
export async function conditionalFetch(fetcher: () => Promise<Response>, what: string, validate?: (body: Uint8Array, res: Response) => void): Promise<FetchOutcome> {
  const res = await fetcher();
  if (res.status === 304) return { status: 304 };
  if (res.status === 404 || res.status === 410) return { status: 404 };
  if (!res.ok) throw new UpstreamUnavailable(`upstream answered ${res.status} for ${what}`);
  const body = new Uint8Array(await res.arrayBuffer());
  validate?.(body, res);
  return { status: 200, body, contentType: res.headers.get('content-type'), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
}
