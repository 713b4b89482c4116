// What proxy repositories remember of their upstream's metadata (pages, indexes, databases):
// the last good body with its validators, or a remembered 404, and when it was fetched.
import { StatementOwner } from './statements.ts';

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

type Row = Record<string, unknown>;

export class ProxyCacheStore extends StatementOwner {

  get(repoId: number, key: string): CachedUpstreamEntry | undefined {
    const r = this.stmt('SELECT * FROM proxy_cache WHERE repo_id = ? AND key = ?').get(repoId, key) as Row | undefined;
    if (!r) return undefined;
    return {
      key: String(r.key), status: Number(r.status), contentType: (r.content_type as string | null) ?? null, body: (r.body as Uint8Array | null) ?? null,
      etag: (r.etag as string | null) ?? null, lastModified: (r.last_modified as string | null) ?? null, fetchedAt: Number(r.fetched_at),
    };
  }

  put(repoId: number, e: CachedUpstreamEntry): void {
    this.stmt(`INSERT INTO proxy_cache (repo_id, key, status, content_type, body, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (repo_id, key) DO UPDATE SET status = excluded.status, content_type = excluded.content_type, body = excluded.body,
      etag = excluded.etag, last_modified = excluded.last_modified, fetched_at = excluded.fetched_at`)
      .run(repoId, e.key, e.status, e.contentType, e.body, e.etag, e.lastModified, e.fetchedAt);
  }

  /** Mark an entry as just checked (a 304 from upstream). */
  touch(repoId: number, key: string, fetchedAt: number): void {
    this.stmt('UPDATE proxy_cache SET fetched_at = ? WHERE repo_id = ? AND key = ?').run(fetchedAt, repoId, key);
  }

  delete(repoId: number, key: string): void {
    this.stmt('DELETE FROM proxy_cache WHERE repo_id = ? AND key = ?').run(repoId, key);
  }

  keys(repoId: number, prefix: string): string[] {
    return (this.stmt('SELECT key FROM proxy_cache WHERE repo_id = ? AND key >= ? AND key < ? ORDER BY key').all(repoId, prefix, prefix + '\uffff') as Row[]).map((r) => String(r.key));
  }
}
