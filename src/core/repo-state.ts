// State that outlives a request, owned by the core per repository: incremental index state
// (what a format would otherwise keep in a module-level map) and memos of parsed upstream
// data. Formats ask for it through `ctx.state`; the core keeps it in step with the database
// through the change feed, so no delete path has to remember to invalidate anything:
// - `get(key, create)`: a holder for this repository. A holder with `applyChanges` is given
//   every change of its repository (whoever made it) before it is used again; one without is
//   dropped at any change and made afresh. A deleted or recreated repository loses them all.
// - `memo(name, bounds)`: a bounded, process-wide memo whose keys name the content they stand
//   for (an ETag, a cache generation), so no change can make an entry wrong; the repository's
//   entries go with it.
import { BoundedCache } from './bounded-cache.ts';
import type { ChangeFeed, RepoChange } from './change-feed.ts';
import type { Repository } from './model.ts';

export interface StateHolder {
  /** This repository's changes since the holder was made or last told, oldest first. */
  applyChanges?(changes: RepoChange[]): void;
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
  get<T extends object & StateHolder>(key: string, create: () => T): T;
  memo<V>(name: string, bounds: MemoBounds): RepoMemo<V>;
}

interface Slot {
  createdAt: string;
  holders: Map<string, StateHolder>;
}

export class RepoStateRegistry {
  private readonly feed: ChangeFeed;
  private readonly slots = new Map<number, Slot>();
  private readonly memos = new Map<string, BoundedCache<unknown>>();

  constructor(feed: ChangeFeed) {
    this.feed = feed;
    feed.subscribe({ apply: (changes) => this.apply(changes), reset: () => this.dropAll() });
  }

  /** `ctx.state` for one repository. */
  forRepo(repo: Repository): RepoState {
    return {
      get: (key, create) => this.get(repo, key, create),
      memo: (name, bounds) => this.memoFor(repo, name, bounds),
    };
  }

  get<T extends object & StateHolder>(repo: Repository, key: string, create: () => T): T {
    // Changes first: a holder is never used before it has seen every committed change.
    this.feed.catchUp();
    let slot = this.slots.get(repo.id);
    if (slot && slot.createdAt !== repo.createdAt) {
      this.drop(repo.id);
      slot = undefined;
    }
    if (!slot) this.slots.set(repo.id, (slot = { createdAt: repo.createdAt, holders: new Map() }));
    let h = slot.holders.get(key);
    if (!h) slot.holders.set(key, (h = create()));
    return h as T;
  }

  private memoFor<V>(repo: Repository, name: string, bounds: MemoBounds): RepoMemo<V> {
    let cache = this.memos.get(name);
    if (!cache) this.memos.set(name, (cache = new BoundedCache<unknown>(bounds)));
    const c = cache as BoundedCache<V>;
    const prefix = `${repo.id}:${repo.createdAt}\0`;
    return { get: (k) => c.get(prefix + k), set: (k, v, bytes) => c.set(prefix + k, v, bytes) };
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

  private apply(changes: RepoChange[]): void {
    const byRepo = new Map<number, RepoChange[]>();
    for (const c of changes) {
      let list = byRepo.get(c.repoId);
      if (!list) byRepo.set(c.repoId, (list = []));
      list.push(c);
    }
    for (const [repoId, list] of byRepo) {
      // A repository created, changed or deleted: its options may be what the state was built from.
      if (list.some((c) => c.kind === 'repo')) {
        this.drop(repoId);
        continue;
      }
      const slot = this.slots.get(repoId);
      if (!slot) continue;
      for (const [key, h] of slot.holders) {
        if (h.applyChanges) h.applyChanges(list);
        else slot.holders.delete(key);
      }
    }
  }
}
