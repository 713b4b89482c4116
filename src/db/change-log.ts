// The change feed's table (`repo_changes`, migration 6): what changed in which repository,
// in commit order. Triggers append most rows; this reads them, appends the rows no trigger
// can (index documents, signing keys) and prunes old ones.
import { transaction } from './database.ts';
import { StatementOwner } from './statements.ts';

export type ChangeKind = 'file' | 'proxy' | 'repo' | 'index' | 'keys';

export interface RepoChange {
  seq: number;
  repoId: number;
  kind: ChangeKind;
  /** A file's path, a proxy cache key, an index document's key, a repository's name; '' for keys. */
  subject: string;
}

type Row = Record<string, unknown>;
const PRUNED_KEY = 'repo_changes:pruned';

export class ChangeLog extends StatementOwner {
  /** The last change committed (0 when none ever was), pruned or not. */
  head(): number {
    const r = this.stmt('SELECT seq FROM repo_changes ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
    // Sequence numbers are never reused (AUTOINCREMENT), and pruning may leave no row at all.
    return r ? Number(r.seq) : this.prunedThrough();
  }

  /** Changes after `seq`, oldest first, at most `limit`. */
  since(seq: number, limit: number): RepoChange[] {
    return (this.stmt('SELECT seq, repo_id, kind, subject FROM repo_changes WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as Row[])
      .map((r) => ({ seq: Number(r.seq), repoId: Number(r.repo_id), kind: r.kind as ChangeKind, subject: String(r.subject) }));
  }

  /** Append a change; call it in the transaction of the change. */
  note(repoId: number, kind: ChangeKind, subject: string): void {
    this.stmt('INSERT INTO repo_changes (repo_id, kind, subject) VALUES (?, ?, ?)').run(repoId, kind, subject);
  }

  /** Everything up to this seq may have been pruned: a reader that saw less has missed changes. */
  prunedThrough(): number {
    const r = this.stmt('SELECT value FROM settings WHERE key = ?').get(PRUNED_KEY) as Row | undefined;
    return r ? Number(r.value) : 0;
  }

  /** Drop changes older than `olderThanS` seconds (keeping the newest `keep`); returns how many went. */
  prune(olderThanS: number, keep: number): number {
    const head = this.head();
    const limit = this.stmt('SELECT COALESCE(MAX(seq), 0) AS s FROM repo_changes WHERE seq <= ? AND at < ?')
      .get(head - keep, Math.floor(Date.now() / 1000) - olderThanS) as Row;
    const upTo = Number(limit.s);
    if (upTo <= this.prunedThrough()) return 0;
    return transaction(this.db, () => {
      const n = Number(this.stmt('DELETE FROM repo_changes WHERE seq <= ?').run(upTo).changes);
      this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(PRUNED_KEY, String(upTo));
      return n;
    });
  }
}
