// State that outlives a request, owned by the core per repository: incremental index state
// (what a format would otherwise keep in a module-level map) and memos of parsed upstream
// data. Formats ask for it through `ctx.state`; the core keeps it in step with the database
// through the change feed, so no delete path has to remember to invalidate anything:
// - `get(key, create)`: a holder for this repository. A holder with `applyChanges` is given
//   every change of its repository (whoever made it) before it is used again; one without is
//   dropped at any change and made afresh. A deleted or recreated repository loses them all.
//   Concurrent first calls share one `create`; changes applied while it runs are handed to
//   the new holder (or, without `applyChanges`, keep it from being kept).
// - `memo(name, bounds)`: a bounded, process-wide memo whose keys name the content they stand
//   for (an ETag, a cache generation), so no change can make an entry wrong; the repository's
//   entries go with it. Every memo together stays within one byte budget (`memoBytes`, the
//   operator's upstreamCacheMiB): past it the largest memo gives up its oldest entries.
import { BoundedCache } from './bounded-cache.ts';
import type { ChangeFeed, RepoChange } from './change-feed.ts';
import type { Repository } from './model.ts';

export interface StateHolder {
  /**
   * This repository's changes since the holder was made or last told, oldest first. Better
   * mark what is stale here and read the database at the next use: every request waits for this.
   */
  applyChanges?(changes: RepoChange[]): void | Promise<void>;
}

export interface MemoBounds {
  maxEntries: number;
  maxBytes: number;
}

/** A memo's view for one repository. */
export interface RepoMemo<V> {
  get(key: string): V | undefined;
  set(key: string, value: V, bytes: number): void;
}

/** What a format sees as `ctx.state`. */
export interface RepoState {
  get<T extends object & StateHolder>(key: string, create: () => T | Promise<T>): Promise<T>;
  memo<V>(name: string, bounds: MemoBounds): RepoMemo<V>;
}

interface Slot {
  repoId: number;
  createdAt: string;
  holders: Map<string, StateHolder>;
  /** Holders being made, with the changes applied meanwhile (which they have not seen). */
  creating: Map<string, { holder: Promise<StateHolder>; missed: RepoChange[] }>;
}

/** Default budget of every memo together: upstreamCacheMiB's default (docs/memory.md). */
export const DEFAULT_MEMO_BYTES = 128 * 1024 * 1024;

export class RepoStateRegistry {
  private readonly feed: ChangeFeed;
  private readonly slots = new Map<number, Slot>();
  private readonly memos = new Map<string, BoundedCache<unknown>>();
  private readonly inTransaction: () => boolean;
  /** What every memo may hold together (estimated bytes). */
  readonly memoBytes: number;

  constructor(feed: ChangeFeed, opts: { memoBytes?: number } = {}) {
    this.feed = feed;
    this.memoBytes = opts.memoBytes ?? DEFAULT_MEMO_BYTES;
    this.inTransaction = () => feed.log.sql.inTransaction();
    feed.subscribe({ apply: (changes) => this.apply(changes), reset: () => this.dropAll() });
  }

  /** `ctx.state` for one repository. */
  forRepo(repo: Repository): RepoState {
    return {
      get: (key, create) => this.get(repo, key, create),
      memo: (name, bounds) => this.memoFor(repo, name, bounds),
    };
  }

  async get<T extends object & StateHolder>(repo: Repository, key: string, create: () => T | Promise<T>): Promise<T> {
    // Changes first: a holder is never used before it has seen every committed change.
    await this.feed.catchUp();
    let slot = this.slots.get(repo.id);
    if (slot && slot.createdAt !== repo.createdAt) {
      this.drop(repo.id);
      slot = undefined;
    }
    if (!slot) this.slots.set(repo.id, (slot = { repoId: repo.id, createdAt: repo.createdAt, holders: new Map(), creating: new Map() }));
    const h = slot.holders.get(key);
    if (h) return h as T;
    // Inside a transaction a holder is made for this caller only: what it reads may be rolled
    // back, and a `create` under way elsewhere may be waiting for this transaction's commit.
    if (this.inTransaction()) return create();
    let making = slot.creating.get(key);
    if (!making) {
      const entry = { holder: null as unknown as Promise<StateHolder>, missed: [] as RepoChange[] };
      entry.holder = this.make(slot, key, create, entry.missed).finally(() => {
        if (slot.creating.get(key) === entry) slot.creating.delete(key);
      });
      slot.creating.set(key, (making = entry));
    }
    return (await making.holder) as T;
  }

  /**
   * Make a holder and keep it, once it has seen what was applied while it was made. A `create`
   * that reads the database may have read before or after those changes: one with
   * `applyChanges` is told them (marking stale twice is harmless); one without is used by
   * its callers but not kept. Nor is one whose repository was dropped meanwhile.
   */
  private async make(slot: Slot, key: string, create: () => StateHolder | Promise<StateHolder>, missed: RepoChange[]): Promise<StateHolder> {
    const h = await create();
    if (h.applyChanges) {
      while (missed.length) await h.applyChanges(missed.splice(0));
    } else if (missed.length) {
      return h;
    }
    // No await from the last look at `missed` to here: nothing can be applied in between.
    if (this.slots.get(slot.repoId) === slot) slot.holders.set(key, h);
    return h;
  }

  private memoFor<V>(repo: Repository, name: string, bounds: MemoBounds): RepoMemo<V> {
    let cache = this.memos.get(name);
    if (!cache) this.memos.set(name, (cache = new BoundedCache<unknown>({ ...bounds, maxBytes: Math.min(bounds.maxBytes, this.memoBytes) })));
    const c = cache as BoundedCache<V>;
    const prefix = `${repo.id}:${repo.createdAt}\0`;
    return {
      get: (k) => c.get(prefix + k),
      set: (k, v, bytes) => {
        c.set(prefix + k, v, bytes);
        this.withinBudget(c);
      },
    };
  }

  /** Past the budget, the largest memo gives up its oldest entries (never the one just set, unless it is alone). */
  private withinBudget(justSet: BoundedCache<unknown>): void {
    let total = 0;
    for (const m of this.memos.values()) total += m.bytes;
    while (total > this.memoBytes) {
      let largest: BoundedCache<unknown> | undefined;
      for (const m of this.memos.values()) if (m.size > (m === justSet ? 1 : 0) && (!largest || m.bytes > largest.bytes)) largest = m;
      if (!largest) break;
      const before = largest.bytes;
      largest.evictOldest();
      total -= before - largest.bytes;
    }
  }

  /** Forget everything held for a repository (deleted, recreated, or its settings changed). */
  drop(repoId: number): void {
    this.slots.delete(repoId);
    for (const cache of this.memos.values()) cache.deleteWhere((k) => k.startsWith(`${repoId}:`));
  }

  dropAll(): void {
    this.slots.clear();
    for (const cache of this.memos.values()) cache.clear();
  }

  /** How many repositories hold state, and the memos' sizes (for tests and metrics). */
  stats(): { repos: number; memos: Record<string, { entries: number; bytes: number }> } {
    const memos: Record<string, { entries: number; bytes: number }> = {};
    for (const [name, c] of this.memos) memos[name] = { entries: c.size, bytes: c.bytes };
    return { repos: this.slots.size, memos };
  }

  /** Whether `repoId` holds `key` now (for tests). */
  holds(repoId: number, key: string): boolean {
    return this.slots.get(repoId)?.holders.has(key) ?? false;
  }

  private async apply(changes: RepoChange[]): Promise<void> {
    const byRepo = new Map<number, RepoChange[]>();
    for (const c of changes) {
      let list = byRepo.get(c.repoId);
      if (!list) byRepo.set(c.repoId, (list = []));
      list.push(c);
    }
    const told: Promise<void>[] = [];
    for (const [repoId, list] of byRepo) {
      // A repository created, changed or deleted: its options may be what the state was built from.
      if (list.some((c) => c.kind === 'repo')) {
        this.drop(repoId);
        continue;
      }
      const slot = this.slots.get(repoId);
      if (!slot) continue;
      // Before any await: a holder being made learns of these whatever happens below.
      for (const m of slot.creating.values()) m.missed.push(...list);
      for (const [key, h] of slot.holders) {
        if (!h.applyChanges) {
          slot.holders.delete(key);
          continue;
        }
        const p = h.applyChanges(list);
        if (p) told.push(p);
      }
    }
    // Holders of different repositories (and keys) are independent; each is told in order
    // because catch-up passes never overlap.
    await Promise.all(told);
  }
}
