// What proxy repositories remember of their upstream's metadata (pages, indexes, databases):
// the last good body with its validators, or a remembered 404, and when it was fetched.
import type { Row, Sql } from './sql.ts';

export interface CachedUpstreamEntry {
  key: string;
  /** 200, or 404 for a remembered miss. */
  status: number;
  contentType: string | null;
  body: Uint8Array | null;
  etag: string | null;
  lastModified: string | null;
  /** Milliseconds since the epoch. */
  fetchedAt: number;
}


export class ProxyCacheStore {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }


  async get(repoId: number, key: string): Promise<CachedUpstreamEntry | undefined> {
    const r = (await this.sql.get('SELECT * FROM proxy_cache WHERE repo_id = ? AND key = ?', [repoId, key]));
    if (!r) return undefined;
    return {
      key: String(r.key), status: Number(r.status), contentType: (r.content_type as string | null) ?? null, body: (r.body as Uint8Array | null) ?? null,
      etag: (r.etag as string | null) ?? null, lastModified: (r.last_modified as string | null) ?? null, fetchedAt: Number(r.fetched_at),
    };
  }

  async put(repoId: number, e: CachedUpstreamEntry): Promise<void> {
    (await this.sql.run(`INSERT INTO proxy_cache (repo_id, key, status, content_type, body, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (repo_id, key) DO UPDATE SET status = excluded.status, content_type = excluded.content_type, body = excluded.body,
      etag = excluded.etag, last_modified = excluded.last_modified, fetched_at = excluded.fetched_at`, [repoId, e.key, e.status, e.contentType, e.body, e.etag, e.lastModified, e.fetchedAt]));
  }

  /** Mark an entry as just checked (a 304 from upstream). */
  async touch(repoId: number, key: string, fetchedAt: number): Promise<void> {
    await this.sql.run('UPDATE proxy_cache SET fetched_at = ? WHERE repo_id = ? AND key = ?', [fetchedAt, repoId, key]);
  }

  /**
   * Every entry of a repository due for revalidation at its next read, without the validators
   * (its upstream changed: what the old one answered is only a fallback while the new one is
   * unreachable, and the old one's ETag or Last-Modified mean nothing to it). Returns the count.
   */
  async expireAll(repoId: number): Promise<number> {
    return (await this.sql.run('UPDATE proxy_cache SET fetched_at = 0, etag = NULL, last_modified = NULL WHERE repo_id = ? AND fetched_at <> 0', [repoId])).changes;
  }

  async delete(repoId: number, key: string): Promise<void> {
    await this.sql.run('DELETE FROM proxy_cache WHERE repo_id = ? AND key = ?', [repoId, key]);
  }

  async keys(repoId: number, prefix: string): Promise<string[]> {
    return (await this.sql.all('SELECT key FROM proxy_cache WHERE repo_id = ? AND key >= ? AND key < ? ORDER BY key', [repoId, prefix, prefix + '\uffff'])).map((r) => String(r.key));
  }
}
