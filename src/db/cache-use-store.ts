// What a proxy repository knows of its cached upstream files beyond the files rows: when each
// was last served to a client and whether a mirror sync brought it in (proxy_file_use). Rows
// go with their file (ON DELETE CASCADE), so an evicted or deleted file leaves nothing behind.
import type { Sql } from './sql.ts';

/** A cached file as eviction sees it. */
export interface CachedFileUse {
  id: number;
  path: string;
  size: number;
  /** When it was last served (ISO 8601), or when it was cached if never recorded since. */
  lastUsed: string;
  mirrored: boolean;
}

export class CacheUseStore {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Record uses: each file's last_used moves forward only (replicas record their own). A file deleted meanwhile is skipped. */
  async recordUses(uses: { fileId: number; at: string }[]): Promise<void> {
    if (uses.length === 0) return;
    await this.sql.transaction(async () => {
      for (const u of uses) {
        await this.sql.run(`INSERT INTO proxy_file_use (file_id, repo_id, last_used) SELECT id, repo_id, ? FROM files WHERE id = ?
          ON CONFLICT (file_id) DO UPDATE SET last_used = excluded.last_used
          WHERE proxy_file_use.last_used IS NULL OR proxy_file_use.last_used < excluded.last_used`, [u.at, u.fileId]);
      }
    });
  }

  /** Mark files as brought in by a mirror sync: a later sync may prune them. */
  async markMirrored(fileIds: number[]): Promise<void> {
    if (fileIds.length === 0) return;
    await this.sql.transaction(async () => {
      for (const id of fileIds) {
        await this.sql.run(`INSERT INTO proxy_file_use (file_id, repo_id, mirrored) SELECT id, repo_id, 1 FROM files WHERE id = ?
          ON CONFLICT (file_id) DO UPDATE SET mirrored = 1`, [id]);
      }
    });
  }

  /** Ids of the repository's files a mirror sync brought in. */
  async mirroredIds(repoId: number): Promise<Set<number>> {
    const rows = await this.sql.all('SELECT file_id FROM proxy_file_use WHERE repo_id = ? AND mirrored = 1', [repoId]);
    return new Set(rows.map((r) => Number(r.file_id)));
  }

  /** Every cached file of a repository with its last use. */
  async listUses(repoId: number): Promise<CachedFileUse[]> {
    const rows = await this.sql.all(`SELECT f.id, f.path, f.size, f.created_at, u.last_used, u.mirrored FROM files f
      LEFT JOIN proxy_file_use u ON u.file_id = f.id WHERE f.repo_id = ?`, [repoId]);
    return rows.map((r) => {
      const created = String(r.created_at);
      const used = (r.last_used as string | null) ?? null;
      return { id: Number(r.id), path: String(r.path), size: Number(r.size), lastUsed: used && used > created ? used : created, mirrored: Number(r.mirrored ?? 0) === 1 };
    });
  }
}
