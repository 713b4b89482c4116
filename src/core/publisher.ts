// Publishes generated indexes: a format builds the documents of a scope from the database,
// and they replace the scope's previous documents in one transaction. Work is serialised per
// repository; a scope is marked dirty in the transaction of the change that needs it, and a
// publish clears only the generations its build saw, so one left unpublished by a crash
// (even one that committed while another build of the scope ran) is rebuilt at the next start.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Store } from '../db/store.ts';
import type { FormatPlugin, IndexDocument, RepoContext } from './format-plugin.ts';
import type { IndexCache } from './index-cache.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import type { IndexRow, Repository } from './model.ts';

const GZIP_MIN_BYTES = 512;
const DEFER_MS = 250;

/**
 * An upload made while others to its repository are under way (a burst) is answered once it
 * is durable; the build that publishes it is scheduled this long after the first such change
 * (or as long as the last build took, if longer, so a burst spends at most about half its
 * time publishing), and waits for a build under way. docs/reliability.md states the bound.
 */
export const BURST_DELAY_MS = DEFER_MS;

export class Publisher {
  private readonly store: Store;
  private readonly cache: IndexCache;
  private readonly mutex = new KeyedMutex();
  /** Scopes asked for per repository: true if only while still dirty (see publishNow). */
  private readonly pending = new Map<number, Map<string, boolean>>();
  /** Per repository: scopes to build a moment later; `burst` those deferred only because a burst was under way. */
  private readonly deferred = new Map<number, { scopes: Set<string>; burst: Set<string>; timer: NodeJS.Timeout | null; ctx: RepoContext; plugin: FormatPlugin }>();
  /** Deferred builds under way (their timer fired). */
  private readonly flushing = new Set<Promise<void>>();
  /** How long the last build of each repository took (ms): a burst waits at least that long between builds. */
  private readonly lastBuildMs = new Map<number, number>();
  private readonly longestMs = new Map<number, number>();
  /** Told after every published change (e.g. to drop cached HTTP answers). */
  onPublished: (() => void) | null = null;
  /**
   * Run after a repository's scopes are written, still holding its publish lock (the static
   * tree follows each publish there). It must not throw: the publish is done by then.
   */
  afterPublish: ((ctx: RepoContext, plugin: FormatPlugin, scopes: string[]) => Promise<void>) | null = null;

  /** Brings memory up to date with the database (the change feed), before new rows are cached. */
  private readonly catchUp: () => Promise<void> | void;

  constructor(store: Store, cache: IndexCache, catchUp: () => Promise<void> | void = () => {}) {
    this.store = store;
    this.cache = cache;
    this.catchUp = catchUp;
  }

  /**
   * Publish the given scopes. Concurrent calls for one repository coalesce: scopes asked for
   * while a publish runs are built once by the next run.
   */
  async publish(ctx: RepoContext, plugin: FormatPlugin, scopes: string[], opts: { now?: boolean; burst?: boolean } = {}): Promise<void> {
    const d = plugin.deferredScopes;
    // An upload made while others to the repository are under way is part of a burst: its
    // change is durable and its scopes dirty, so it is answered now and published with the
    // rest of the burst a moment later.
    const burst = opts.burst === true && !opts.now;
    const deferrable = burst ? () => true : opts.now || !d ? () => false : typeof d === 'function' ? d : (s: string) => d.includes(s);
    const entry = this.deferred.get(ctx.repo.id);
    if (opts.now) {
      // Built below: a pending deferred build of them would only repeat it.
      for (const s of scopes) {
        entry?.scopes.delete(s);
        entry?.burst.delete(s);
      }
    }
    // A scope never published yet is built at once: only updates may lag.
    const later: string[] = [];
    for (const s of scopes) if (deferrable(s) && (await this.store.hasIndexScope(ctx.repo.id, s))) later.push(s);
    if (later.length) this.defer(ctx, plugin, later, burst);
    const now = later.length ? scopes.filter((s) => !later.includes(s)) : scopes;
    // An upload answered after its publish (alone, or the last of a burst) also carries what the
    // burst before it deferred: a client that waited for all its uploads then reads them all,
    // whichever scopes they changed.
    if (!burst) {
      const waiting = this.deferred.get(ctx.repo.id);
      for (const s of waiting?.burst ?? []) {
        waiting!.scopes.delete(s);
        if (!now.includes(s)) now.push(s);
      }
      waiting?.burst.clear();
    }
    if (now.length) await this.publishNow(ctx, plugin, now);
  }

  /**
   * Scopes whose cost grows with the repository (the PyPI root page lists every project) are
   * built a moment later, once for a burst of uploads, instead of once per upload. They stay
   * marked dirty until then, so a crash in between rebuilds them at the next start.
   */
  private defer(ctx: RepoContext, plugin: FormatPlugin, scopes: string[], burst = false): void {
    let entry = this.deferred.get(ctx.repo.id);
    if (!entry) {
      entry = { scopes: new Set(), burst: new Set(), timer: null, ctx, plugin };
      this.deferred.set(ctx.repo.id, entry);
    }
    for (const s of scopes) {
      entry.scopes.add(s);
      if (burst) entry.burst.add(s);
    }
    entry.timer ??= setTimeout(() => void this.flushRepo(ctx.repo.id), Math.max(BURST_DELAY_MS, this.lastBuildMs.get(ctx.repo.id) ?? 0));
  }

  private flushRepo(repoId: number): Promise<void> {
    const entry = this.deferred.get(repoId);
    if (!entry) return Promise.resolve();
    this.deferred.delete(repoId);
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.scopes.size === 0) return Promise.resolve();
    const run = this.publishNow(entry.ctx, entry.plugin, [...entry.scopes], { ifDirty: true }).catch(() => {
      // Left dirty: rebuilt by the next publish of the scope or at the next start.
    }).finally(() => this.flushing.delete(run));
    this.flushing.add(run);
    return run;
  }

  /** Build every deferred scope now, and wait for deferred builds already under way (before shutting down, and in tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.deferred.keys()].map((id) => this.flushRepo(id)));
    await Promise.all([...this.flushing]);
  }

  /**
   * Publish dirty scopes whether or not this process marked them: at start, and from time to
   * time on every replica, so a deferred publish whose replica died still happens. A scope
   * another process published meanwhile is skipped, so each change is published once.
   */
  async publishDirty(ctx: RepoContext, plugin: FormatPlugin, scopes: string[]): Promise<void> {
    await this.publishNow(ctx, plugin, scopes, { ifDirty: true });
  }

  /**
   * Build and write scopes, one repository at a time in this process (the mutex) and across
   * every process on the database (a lock per repository). `ifDirty` skips a scope that is
   * published up to its last change by the time its turn comes (a deferred build, or a sweep,
   * that another replica already did); without it the scope is built regardless (a repository's
   * first publish, fsck's repair, signing with a new key).
   */
  private async publishNow(ctx: RepoContext, plugin: FormatPlugin, scopes: string[], opts: { ifDirty?: boolean } = {}): Promise<void> {
    const repo = ctx.repo;
    let asked = this.pending.get(repo.id);
    if (!asked) {
      asked = new Map();
      this.pending.set(repo.id, asked);
    }
    for (const s of scopes) asked.set(s, (asked.get(s) ?? true) && opts.ifDirty === true);
    await this.mutex.run(`repo:${repo.id}`, async () => {
      const todo = this.pending.get(repo.id);
      if (!todo || todo.size === 0) return;
      this.pending.delete(repo.id);
      const started = performance.now();
      await this.store.sql.lock(`publish:${repo.id}`, async () => {
        const wrote: string[] = [];
        for (const [scope, ifDirty] of todo) {
          if (ifDirty && !(await this.store.isDirty(repo.id, scope))) continue;
          // Read before the build reads the database: a change that commits while the build
          // runs bumps the generation past this, and the scope stays dirty.
          const generation = await this.store.dirtyGeneration(repo.id, scope);
          const docs = await plugin.buildScope(ctx, scope);
          await this.writeScope(repo, scope, docs, generation);
          wrote.push(scope);
        }
        if (wrote.length && this.afterPublish) await this.afterPublish(ctx, plugin, wrote);
      });
      const took = performance.now() - started;
      this.lastBuildMs.set(repo.id, took);
      this.longestMs.set(repo.id, Math.max(took, this.longestMs.get(repo.id) ?? 0));
    });
  }

  private async writeScope(repo: Repository, scope: string, docs: IndexDocument[], generation: number): Promise<void> {
    const before = await this.store.indexVersions(repo.id, scope);
    const nowMs = Date.now();
    const rows = docs.map((d) => {
      const body = typeof d.body === 'string' ? Buffer.from(d.body, 'utf8') : d.body;
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      const gzip = body.length >= GZIP_MIN_BYTES && isCompressible(d.contentType) ? gzipSync(body, { level: 6 }) : null;
      return { key: d.key, contentType: d.contentType, body, gzip, etag, updatedAt: changeTime(before.get(d.key), etag, nowMs) };
    });
    await this.store.replaceScope(repo.id, scope, rows, generation);
    // The feed drops the documents this write changed (and any other process's changes) first,
    // so the new rows cached below are not dropped again.
    await this.catchUp();
    for (const k of before.keys()) this.cache.delete(repo.id, k);
    for (const r of rows) {
      const row: IndexRow = { repoId: repo.id, key: r.key, scope, contentType: r.contentType, body: r.body, gzip: r.gzip, etag: r.etag, updatedAt: r.updatedAt };
      this.cache.set(repo.id, r.key, row);
    }
    this.onPublished?.();
  }

  /** The longest build of the repository's indexes so far in this process (ms): the visibility bound of a burst is stated in it. */
  longestBuildMs(repoId: number): number {
    return this.longestMs.get(repoId) ?? 0;
  }

  /** Wait until every publish already asked for a repository is done. */
  async settle(repo: Repository): Promise<void> {
    await this.mutex.run(`repo:${repo.id}`, async () => {});
  }
}

function isCompressible(contentType: string): boolean {
  return /^(text\/|application\/(json|xml|vnd\.pypi\.simple[^;]*json|vnd\.pypi\.simple[^;]*html))/.test(contentType);
}

/**
 * Last-Modified of a document: unchanged when its bytes are, and otherwise later than the
 * previous version by at least a second. HTTP dates have whole seconds, and clients such as
 * pacman (through curl's If-Modified-Since) take an equal date as "not modified", so two
 * publishes within one second must still look different.
 */
export function changeTime(prev: { etag: string; updatedAt: string } | undefined, etag: string, nowMs: number): string {
  if (!prev) return new Date(nowMs).toISOString();
  if (prev.etag === etag) return prev.updatedAt;
  const prevSecond = Math.floor(Date.parse(prev.updatedAt) / 1000);
  const nowSecond = Math.floor(nowMs / 1000);
  return new Date(nowSecond > prevSecond ? nowMs : (prevSecond + 1) * 1000).toISOString();
}
