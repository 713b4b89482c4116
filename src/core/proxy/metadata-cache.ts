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
  /** The upstream could not be asked (down, or offline): this is the last copy known. */
  stale: boolean;
}

export class MetadataCache {
  private readonly cache: ProxyCacheStore;
  private readonly inflight = new Map<string, Promise<MetadataResult>>();

  constructor(cache: ProxyCacheStore) {
    this.cache = cache;
  }

  /**
   * The entry for `key`, fetched with `fetcher` when missing or expired. The fetcher gets the
   * previous good entry (for conditional requests) and throws when the upstream fails or answers
   * something that is not a valid document of its kind (which is then never stored).
   */
  get(repo: Repository, key: string, opts: ProxyOptions, fetcher: (prev: CachedUpstreamEntry | undefined) => Promise<FetchOutcome>): Promise<MetadataResult> {
    const prev = this.cache.get(repo.id, key);
    const now = Date.now();
    if (prev) {
      const ttl = (prev.status === 200 ? opts.metadataTtl : opts.negativeTtl) * 1000;
      if (now - prev.fetchedAt < ttl) return Promise.resolve({ entry: prev.status === 200 ? prev : null, stale: false });
    }
    if (opts.offline) return Promise.resolve({ entry: prev?.status === 200 ? prev : null, stale: prev !== undefined });
    const flightKey = `${repo.id}\0${key}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      flight = this.refresh(repo, key, prev, fetcher).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    return flight;
  }

  private async refresh(repo: Repository, key: string, prev: CachedUpstreamEntry | undefined, fetcher: (prev: CachedUpstreamEntry | undefined) => Promise<FetchOutcome>): Promise<MetadataResult> {
    const good = prev?.status === 200 ? prev : undefined;
    let outcome: FetchOutcome;
    try {
      outcome = await fetcher(good);
    } catch (err) {
      if (good) return { entry: good, stale: true };
      if (prev && prev.status === 404) return { entry: null, stale: true };
      throw err instanceof UpstreamUnavailable ? err : new UpstreamUnavailable((err as Error).message);
    }
    const now = Date.now();
    if (outcome.status === 304 && good) {
      this.cache.touch(repo.id, key, now);
      return { entry: { ...good, fetchedAt: now }, stale: false };
    }
    if (outcome.status === 200) {
      const entry: CachedUpstreamEntry = { key, status: 200, contentType: outcome.contentType, body: outcome.body, etag: outcome.etag, lastModified: outcome.lastModified, fetchedAt: now };
      this.cache.put(repo.id, entry);
      return { entry, stale: false };
    }
    // 404, or a 304 we cannot use: remember the miss.
    this.cache.put(repo.id, { key, status: 404, contentType: null, body: null, etag: null, lastModified: null, fetchedAt: now });
    return { entry: null, stale: false };
  }

  /** Forget an entry (e.g. when a mirror sync prunes a project). */
  forget(repo: Repository, key: string): void {
    this.cache.delete(repo.id, key);
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
