// An in-memory cache of published index rows, bounded in bytes. Publishing replaces the
// entries it changes, so a hot simple page costs a map lookup rather than a database read.
import type { IndexRow } from './model.ts';

export class IndexCache {
  private readonly entries = new Map<string, IndexRow | null>();
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes = 128 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  private static sizeOf(row: IndexRow | null): number {
    return row ? row.body.length + (row.gzip?.length ?? 0) + 256 : 64;
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
    this.delete(repoId, key);
    this.entries.set(k, row);
    this.bytes += IndexCache.sizeOf(row);
    for (const [oldKey, oldRow] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= IndexCache.sizeOf(oldRow);
    }
  }

  delete(repoId: number, key: string): void {
    const k = `${repoId}\0${key}`;
    const old = this.entries.get(k);
    if (old !== undefined) {
      this.entries.delete(k);
      this.bytes -= IndexCache.sizeOf(old);
    }
  }

  dropRepo(repoId: number): void {
    for (const [k, row] of this.entries) {
      if (k.startsWith(`${repoId}\0`)) {
        this.entries.delete(k);
        this.bytes -= IndexCache.sizeOf(row);
      }
    }
  }
}
