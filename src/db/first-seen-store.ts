// When a proxy first saw each package its upstream's index lists (upstream_first_seen): the
// age of an APT or Arch package, whose indexes carry no upload time, for a cooldown (minAge).
// A key is recorded once; later sightings keep the first time, whichever process saw it.
import type { Sql } from './sql.ts';

/** Rows per INSERT: well inside SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 300;

const EPOCH = new Date(0).toISOString();

/**
 * How stale a row's last_listed may be: refreshed at most once a day per key, so a reread of a
 * large index does not rewrite every row. Pruning allows for it.
 */
const LISTED_SLACK_MS = 86_400_000;

/**
 * The row that says an index was read (first_seen: its first read; last_listed: its latest,
 * within the slack); no pool path or package file name starts with '#'.
 */
export const baselineMarker = (scope: string) => `#read ${scope}`;
const MARK_FROM = '#read ';
const MARK_TO = '#read!';

export class FirstSeenStore {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /**
   * Note `keys` as seen at `at` (ISO 8601) where they were not seen before, and as listed at
   * `listedAt` (written at most once a day per key: LISTED_SLACK_MS).
   */
  async record(repoId: number, keys: Iterable<string>, at: string, listedAt = new Date().toISOString()): Promise<void> {
    const list = [...new Set(keys)];
    const stale = new Date(Date.parse(listedAt) - LISTED_SLACK_MS).toISOString();
    for (let i = 0; i < list.length; i += CHUNK) {
      const part = list.slice(i, i + CHUNK);
      await this.sql.run(`INSERT INTO upstream_first_seen (repo_id, key, first_seen, last_listed) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')}
        ON CONFLICT (repo_id, key) DO UPDATE SET last_listed = excluded.last_listed
        WHERE upstream_first_seen.last_listed IS NULL OR upstream_first_seen.last_listed < ?`, [...part.flatMap((k) => [repoId, k, at, listedAt]), stale]);
    }
  }

  /**
   * Delete rows of packages no index of their proxy lists any more, at most `limit` per run:
   * first the marks of indexes not read within `graceMs` (their next read is a first read
   * again), then keys last listed more than `graceMs` ago and before the oldest read of every
   * index the proxy still reads (less the slack of LISTED_SLACK_MS), so no index read since
   * lists them. Rows from before last_listed existed (NULL) are kept. Returns the rows deleted.
   */
  async prune(now: number, { graceMs, limit }: { graceMs: number; limit: number }): Promise<number> {
    const horizon = new Date(now - graceMs).toISOString();
    let left = limit;
    left -= (await this.sql.run(`DELETE FROM upstream_first_seen WHERE (repo_id, key) IN (SELECT repo_id, key FROM upstream_first_seen
      WHERE key >= ? AND key < ? AND last_listed < ? LIMIT ?)`, [MARK_FROM, MARK_TO, horizon, left])).changes;
    const repos = await this.sql.all('SELECT DISTINCT repo_id FROM upstream_first_seen');
    for (const { repo_id: repoId } of repos) {
      if (left <= 0) break;
      const oldest = (await this.sql.get('SELECT MIN(last_listed) AS t FROM upstream_first_seen WHERE repo_id = ? AND key >= ? AND key < ?', [repoId as number, MARK_FROM, MARK_TO]))?.t;
      const readCut = oldest ? new Date(Date.parse(String(oldest)) - LISTED_SLACK_MS).toISOString() : horizon;
      const cut = readCut < horizon ? readCut : horizon;
      left -= (await this.sql.run(`DELETE FROM upstream_first_seen WHERE repo_id = ? AND key IN (SELECT key FROM upstream_first_seen
        WHERE repo_id = ? AND last_listed IS NOT NULL AND last_listed < ? AND key NOT LIKE '#%' LIMIT ?)`, [repoId as number, repoId as number, cut, left])).changes;
    }
    return limit - left;
  }

  /**
   * Note what one upstream index (`scope`: an APT `binary-*` directory, an Arch db) lists. At
   * the first read of that index (no marker row yet) with the "initial" baseline, its keys
   * count as seen at the epoch: a new proxy does not hold back what its upstream already had
   * (src/core/cooldown.ts, MinAgeBaseline). Two first reads at once both backdate: harmless.
   */
  async sighting(repoId: number, scope: string, keys: Iterable<string>, baseline: 'initial' | 'now', at: string): Promise<void> {
    const marker = baselineMarker(scope);
    if (baseline === 'initial' && (await this.get(repoId, marker)) === undefined) await this.record(repoId, keys, EPOCH, at);
    else await this.record(repoId, keys, at, at);
    // After the keys: a mark stands for a read whose keys are all written.
    await this.record(repoId, [marker], at, at);
  }

  /** Every key of a repository with the time (ms) it was first seen. */
  async all(repoId: number): Promise<Map<string, number>> {
    const rows = await this.sql.all('SELECT key, first_seen FROM upstream_first_seen WHERE repo_id = ?', [repoId]);
    return new Map(rows.map((r) => [String(r.key), Date.parse(String(r.first_seen))]));
  }

  /** When one key was first seen (ms), if it was. */
  async get(repoId: number, key: string): Promise<number | undefined> {
    const row = await this.sql.get('SELECT first_seen FROM upstream_first_seen WHERE repo_id = ? AND key = ?', [repoId, key]);
    return row ? Date.parse(String(row.first_seen)) : undefined;
  }
}
