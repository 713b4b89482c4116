// When a proxy first saw each package its upstream's index lists (upstream_first_seen): the
// age of an APT or Arch package, whose indexes carry no upload time, for a cooldown (minAge).
// A key is recorded once; later sightings keep the first time, whichever process saw it.
import type { Sql } from './sql.ts';

/** Rows per INSERT: well inside SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 300;

const EPOCH = new Date(0).toISOString();

/** The row that says an index was read once; no pool path or package file name starts with '#'. */
export const baselineMarker = (scope: string) => `#read ${scope}`;

export class FirstSeenStore {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Note `keys` as seen at `at` (ISO 8601) where they were not seen before. */
  async record(repoId: number, keys: Iterable<string>, at: string): Promise<void> {
    const list = [...new Set(keys)];
    for (let i = 0; i < list.length; i += CHUNK) {
      const part = list.slice(i, i + CHUNK);
      await this.sql.run(`INSERT INTO upstream_first_seen (repo_id, key, first_seen) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}
        ON CONFLICT (repo_id, key) DO NOTHING`, part.flatMap((k) => [repoId, k, at]));
    }
  }

  /**
   * Note what one upstream index (`scope`: an APT `binary-*` directory, an Arch db) lists. At
   * the first read of that index (no marker row yet) with the "initial" baseline, its keys
   * count as seen at the epoch: a new proxy does not hold back what its upstream already had
   * (src/core/cooldown.ts, MinAgeBaseline). Two first reads at once both backdate: harmless.
   */
  async sighting(repoId: number, scope: string, keys: Iterable<string>, baseline: 'initial' | 'now', at: string): Promise<void> {
    const marker = baselineMarker(scope);
    if (baseline === 'initial' && (await this.get(repoId, marker)) === undefined) {
      await this.record(repoId, keys, EPOCH);
      await this.record(repoId, [marker], at);
      return;
    }
    await this.record(repoId, keys, at);
    if (baseline === 'now') await this.record(repoId, [marker], at);
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
