// A memo bounded both by its number of entries and by an estimate of the bytes they hold,
// oldest out first: a count alone lets a few thousand large entries (pages of projects with
// thousands of files, whole package dbs) fill the heap.
export class BoundedCache<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  /** The estimated bytes held now. */
  bytes = 0;

  constructor(opts: { maxEntries: number; maxBytes: number }) {
    this.maxEntries = opts.maxEntries;
    this.maxBytes = opts.maxBytes;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Keep `value`, estimated at `bytes`; an entry larger than the whole budget is not kept. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.map) {
      if (this.map.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.bytes -= e.bytes;
  }

  /** Drop the oldest entry; false when there is none. */
  evictOldest(): boolean {
    for (const [k, e] of this.map) {
      this.map.delete(k);
      this.bytes -= e.bytes;
      return true;
    }
    return false;
  }

  /** Drop every entry whose key `pred` picks. */
  deleteWhere(pred: (key: string) => boolean): void {
    for (const [k, e] of this.map) {
      if (!pred(k)) continue;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
