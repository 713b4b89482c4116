// The change feed's table (`repo_changes`, migration 6): what changed in which repository,
// in commit order. Triggers append most rows; this reads them, appends the rows no trigger
// can (index documents, signing keys) and prunes old ones.
import type { Row, Sql } from './sql.ts';

export type ChangeKind = 'file' | 'proxy' | 'repo' | 'index' | 'keys' | 'status' | 'history';

export interface RepoChange {
  seq: number;
  repoId: number;
  kind: ChangeKind;
  /** A file's path, a proxy cache key, an index document's key, a repository's name, a package name (status), a purged path (history); '' for keys. */
  subject: string;
}

const PRUNED_KEY = 'repo_changes:pruned';
/** Changes deleted per transaction when pruning. */
const PRUNE_BATCH = 10_000;

export class ChangeLog {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** The last change committed (0 when none ever was), pruned or not. */
  async head(): Promise<number> {
    const r = (await this.sql.get('SELECT seq FROM repo_changes ORDER BY seq DESC LIMIT 1'));
    // Sequence numbers are never reused (AUTOINCREMENT), and pruning may leave no row at all.
    return r ? Number(r.seq) : this.prunedThrough();
  }

  /** Changes after `seq`, oldest first, at most `limit`. */
  async since(seq: number, limit: number): Promise<RepoChange[]> {
    return (await this.sql.all('SELECT seq, repo_id, kind, subject FROM repo_changes WHERE seq > ? ORDER BY seq LIMIT ?', [seq, limit]))
      .map((r) => ({ seq: Number(r.seq), repoId: Number(r.repo_id), kind: r.kind as ChangeKind, subject: String(r.subject) }));
  }

  /** Append a change; call it in the transaction of the change. */
  async note(repoId: number, kind: ChangeKind, subject: string): Promise<void> {
    await this.sql.run('INSERT INTO repo_changes (repo_id, kind, subject) VALUES (?, ?, ?)', [repoId, kind, subject]);
  }

  /** Everything up to this seq may have been pruned: a reader that saw less has missed changes. */
  async prunedThrough(): Promise<number> {
    const r = (await this.sql.get('SELECT value FROM settings WHERE key = ?', [PRUNED_KEY]));
    return r ? Number(r.value) : 0;
  }

  /**
   * Drop every change, as if pruned up to the head: for a database just filled by a copy
   * (`wharf migrate`), whose rows no process has applied. A process started on it begins at
   * the head, and the next change is numbered after it.
   */
  async forgetAll(): Promise<number> {
    return this.sql.transaction(async () => {
      const head = Number(((await this.sql.get('SELECT COALESCE(MAX(seq), 0) AS s FROM repo_changes')) as Row).s);
      await this.sql.run('DELETE FROM repo_changes');
      await this.sql.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [PRUNED_KEY, String(head)]);
      return head;
    });
  }

  /**
   * Drop changes older than `olderThanS` seconds (keeping the newest `keep`); returns how many
   * went. In steps of `batch` rows, each its own transaction, with other work let in between:
   * an import of a million files leaves a million changes, and one DELETE of them all held
   * the (synchronous) SQLite connection, and so every request, for seconds.
   */
  async prune(olderThanS: number, keep: number, batch = PRUNE_BATCH): Promise<number> {
    const head = await this.head();
    const limit = (await this.sql.get('SELECT COALESCE(MAX(seq), 0) AS s FROM repo_changes WHERE seq <= ? AND at < ?', [head - keep, Math.floor(Date.now() / 1000) - olderThanS])) as Row;
    const upTo = Number(limit.s);
    let from = await this.prunedThrough();
    if (upTo <= from) return 0;
    // Rows below the first one left need no step each.
    const first = Number(((await this.sql.get('SELECT COALESCE(MIN(seq), 0) AS s FROM repo_changes')) as Row).s);
    from = Math.max(from, first - 1);
    let n = 0;
    while (from < upTo) {
      const to = Math.min(upTo, from + batch);
      n += await this.sql.transaction(async () => {
        const gone = Number((await this.sql.run('DELETE FROM repo_changes WHERE seq > ? AND seq <= ?', [from, to])).changes);
        await this.sql.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [PRUNED_KEY, String(to)]);
        return gone;
      });
      from = to;
      if (from < upTo) await new Promise((r) => setImmediate(r));
    }
    return n;
  }
}
