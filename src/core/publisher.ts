// Publishes generated indexes: a format builds the documents of a scope from the database,
// and they replace the scope's previous documents in one transaction. Work is serialised per
// repository; a scope is marked dirty before the change that needs it commits, so one left
// unpublished by a crash is rebuilt at the next start.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Store } from '../db/store.ts';
import type { FormatPlugin, IndexDocument, RepoContext } from './format-plugin.ts';
import type { IndexCache } from './index-cache.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import type { IndexRow, Repository } from './model.ts';

const GZIP_MIN_BYTES = 512;

export class Publisher {
  private readonly store: Store;
  private readonly cache: IndexCache;
  private readonly mutex = new KeyedMutex();
  private readonly pending = new Map<number, Set<string>>();
  /** Told after every published change (e.g. to drop cached HTTP answers). */
  onPublished: (() => void) | null = null;

  constructor(store: Store, cache: IndexCache) {
    this.store = store;
    this.cache = cache;
  }

  /**
   * Publish the given scopes. Concurrent calls for one repository coalesce: scopes asked for
   * while a publish runs are built once by the next run.
   */
  async publish(ctx: RepoContext, plugin: FormatPlugin, scopes: string[]): Promise<void> {
    const repo = ctx.repo;
    let set = this.pending.get(repo.id);
    if (!set) {
      set = new Set();
      this.pending.set(repo.id, set);
    }
    for (const s of scopes) set.add(s);
    await this.mutex.run(`repo:${repo.id}`, async () => {
      const todo = this.pending.get(repo.id);
      if (!todo || todo.size === 0) return;
      this.pending.delete(repo.id);
      for (const scope of todo) {
        const docs = await plugin.buildScope(ctx, scope);
        this.writeScope(repo, scope, docs);
      }
    });
  }

  private writeScope(repo: Repository, scope: string, docs: IndexDocument[]): void {
    const before = this.store.listIndexKeys(repo.id, scope);
    const rows = docs.map((d) => {
      const body = typeof d.body === 'string' ? Buffer.from(d.body, 'utf8') : d.body;
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      const gzip = body.length >= GZIP_MIN_BYTES && isCompressible(d.contentType) ? gzipSync(body, { level: 6 }) : null;
      return { key: d.key, contentType: d.contentType, body, gzip, etag };
    });
    this.store.replaceScope(repo.id, scope, rows);
    for (const k of before) this.cache.delete(repo.id, k);
    const now = new Date().toISOString();
    for (const r of rows) {
      const row: IndexRow = { repoId: repo.id, key: r.key, scope, contentType: r.contentType, body: r.body, gzip: r.gzip, etag: r.etag, updatedAt: now };
      this.cache.set(repo.id, r.key, row);
    }
    this.onPublished?.();
  }

  /** Wait until every publish already asked for a repository is done. */
  async settle(repo: Repository): Promise<void> {
    await this.mutex.run(`repo:${repo.id}`, async () => {});
  }
}

function isCompressible(contentType: string): boolean {
  return /^(text\/|application\/(json|xml|vnd\.pypi\.simple[^;]*json|vnd\.pypi\.simple[^;]*html))/.test(contentType);
}
