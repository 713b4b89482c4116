// An in-memory cache of published index rows, bounded in bytes. Publishing replaces the
// entries it changes, so a hot simple page costs a map lookup rather than a database read.
// Every entry counts its key and the overhead of a row, not only its body: misses are cached
// too, under keys a client chooses, and a flood of them must not outgrow the budget.
import type { IndexRow } from './model.ts';

/** indexCacheMiB's default (docs/memory.md). */
export const DEFAULT_INDEX_CACHE_BYTES = 64 * 1024 * 1024;

export class IndexCache {
  private readonly entries = new Map<string, IndexRow | null>();
  private bytes = 0;
  private readonly maxBytes: number;
  /**
   * Counts what is dropped (deletes, clears). A reader that fills a miss from the database
   * compares it across its read: a change dropped meanwhile may be newer than what it read.
   */
  private dropped = 0;

  constructor(maxBytes = DEFAULT_INDEX_CACHE_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Estimated bytes of one entry: a JS string costs up to 2 bytes per character, plus the Map's and row's overhead. */
  private static sizeOf(k: string, row: IndexRow | null): number {
    const entry = 2 * k.length + 96;
    return row ? entry + 2 * (row.key.length + row.contentType.length + row.etag.length + row.updatedAt.length + row.scope.length) + row.body.length + (row.gzip?.length ?? 0) + 256 : entry;
  }

  /** Bytes the entries are estimated to hold; never above the budget. */
  get size(): number {
    return this.bytes;
  }

  get generation(): number {
    return this.dropped;
  }

  get count(): number {
    return this.entries.size;
  }

  get(repoId: number, key: string): IndexRow | null | undefined {
    const k = `${repoId}\0${key}`;
    const row = this.entries.get(k);
    if (row !== undefined) {
      // Refresh recency: Map iteration order is insertion order.
      this.entries.delete(k);
      this.entries.set(k, row);
    }
    return row;
  }

  set(repoId: number, key: string, row: IndexRow | null): void {
    const k = `${repoId}\0${key}`;
    this.remove(k);
    const size = IndexCache.sizeOf(k, row);
    // An entry larger than the whole budget would evict everything and still not fit.
    if (size > this.maxBytes) return;
    this.entries.set(k, row);
    this.bytes += size;
    for (const [oldKey, oldRow] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= IndexCache.sizeOf(oldKey, oldRow);
    }
  }

  delete(repoId: number, key: string): void {
    this.dropped++;
    this.remove(`${repoId}\0${key}`);
  }

  private remove(k: string): void {
    const old = this.entries.get(k);
    if (old !== undefined) {
      this.entries.delete(k);
      this.bytes -= IndexCache.sizeOf(k, old);
    }
  }

  clear(): void {
    this.dropped++;
    this.entries.clear();
    this.bytes = 0;
  }

  dropRepo(repoId: number): void {
    this.dropped++;
    for (const [k, row] of this.entries) {
      if (k.startsWith(`${repoId}\0`)) {
        this.entries.delete(k);
        this.bytes -= IndexCache.sizeOf(k, row);
      }
    }
  }
}
