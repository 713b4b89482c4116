// What the pages read: per-repository totals, a repository's packages a page at a time, and
// search over names and summaries. Every query is answered from an index or the totals the
// triggers of migration 4 keep (repo_stats, package_search), never by walking a repository's
// files, so a page costs the same at a thousand packages as at a hundred thousand.
import type { Row, Sql } from './sql.ts';


export interface RepoSummary {
  packages: number;
  files: number;
  bytes: number;
  /** ISO time of the last added or removed package or file; null when nothing ever was. */
  lastChange: string | null;
}

export interface PackageListRow {
  id: number;
  name: string;
  displayName: string;
  summary: string;
  updatedAt: string;
}

export interface SearchHit extends PackageListRow {
  repoId: number;
}

export interface ProxyState {
  /** When the upstream last answered a metadata request (ISO), or null if it never has. */
  lastUpstreamContact: string | null;
  /** Upstream metadata documents kept (pages, indexes). */
  cachedDocuments: number;
}

/** Searches use at most this many words; more add nothing but cost. */
const MAX_TERMS = 8;
/** Matches ranked per search, of names and of the rest each (see Catalog.search). */
export const RANK_CAP = 2000;
/** Counting stops here: "1,000+ results" is as useful as the exact figure and stays fast. */
export const SEARCH_COUNT_CAP = 1000;

/**
 * The words of a query as FTS5 prefix terms: letters and digits only (punctuation separates,
 * as it does in the index), each quoted so no query syntax of FTS5's can be injected.
 */
export function searchTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_TERMS);
}

/** The name a query would be if it were a package name, for ranking exact matches first. */
const asName = (query: string) => query.trim().toLowerCase().replace(/[-_.\s]+/g, '-');

const toListRow = (r: Row): PackageListRow => ({
  id: Number(r.id), name: String(r.name), displayName: String(r.display_name), summary: String(r.summary ?? ''), updatedAt: String(r.updated_at),
});

export class Catalog {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Totals for every repository, from the counters the triggers keep. */
  async repoSummaries(): Promise<Map<number, RepoSummary>> {
    const out = new Map<number, RepoSummary>();
    for (const r of (await this.sql.all('SELECT repo_id, packages, files, bytes, last_change FROM repo_stats')) as Row[]) {
      out.set(Number(r.repo_id), {
        packages: Number(r.packages), files: Number(r.files), bytes: Number(r.bytes), lastChange: (r.last_change as string | null) ?? null,
      });
    }
    return out;
  }

  async proxyState(repoId: number): Promise<ProxyState> {
    const r = (await this.sql.get('SELECT COALESCE(SUM(CASE WHEN status < 400 THEN 1 ELSE 0 END), 0) AS n, MAX(fetched_at) AS last FROM proxy_cache WHERE repo_id = ?', [repoId])) as Row;
    return {
      lastUpstreamContact: r.last == null ? null : new Date(Number(r.last)).toISOString(),
      cachedDocuments: Number(r.n),
    };
  }

  /** One page of a repository's packages, by name or newest change first. */
  async packagesPage(repoId: number, o: { sort: 'name' | 'updated'; offset: number; limit: number }): Promise<{ total: number; rows: PackageListRow[] }> {
    const total = Number((await this.sql.get('SELECT packages FROM repo_stats WHERE repo_id = ?', [repoId]))?.packages ?? 0);
    const order = o.sort === 'name' ? 'name' : 'updated_at DESC, id DESC';
    const rows = (await this.sql.all(`SELECT id, name, display_name, summary, updated_at FROM packages WHERE repo_id = ? ORDER BY ${order} LIMIT ? OFFSET ?`, [repoId, o.limit, o.offset]));
    return { total, rows: rows.map(toListRow) };
  }

  /**
   * Packages whose name or summary has every word of `query` (as a word or a word's start),
   * in the given repositories only: exact names first, then names with every word, then the
   * rest. `total` stops counting at SEARCH_COUNT_CAP.
   *
   * Ranking every match costs a lookup per match (a common word in 100,000 packages matches
   * tens of thousands), so at most RANK_CAP name matches and RANK_CAP other matches, the first
   * the index yields, are ranked; exact names are looked up by index whatever the count. Below
   * the cap, which is every query a person refines, the order is exact.
   */
  async search(query: string, o: { repoIds: number[]; offset: number; limit: number }): Promise<{ total: number; rows: SearchHit[] }> {
    const terms = searchTerms(query);
    if (terms.length === 0 || o.repoIds.length === 0) return { total: 0, rows: [] };
    if (this.sql.dialect === 'postgres') return this.searchPostgres(terms, query, o);
    const all = terms.map((t) => `"${t}"*`).join(' ');
    const inNames = `display_name : (${all})`;
    const repos = JSON.stringify(o.repoIds);
    const name = asName(query);
    const lower = query.trim().toLowerCase();
    // Candidates with a tier: 0 the exact name, 1 every word in the name, 2 the words elsewhere;
    // a package found by several branches keeps its best. Within a tier, names that start
    // with the query, then shorter names (closer to what was typed), then by name. No bm25:
    // its statistics walk every match of every term, which is what the cap avoids. The
    // candidates are every match while there are fewer than RANK_CAP, and more than
    // SEARCH_COUNT_CAP otherwise: counting them is the total.
    const rows = (await this.sql.all(`SELECT p.id, p.repo_id, p.name, p.display_name, p.summary, p.updated_at, COUNT(*) OVER () AS candidates FROM (
        SELECT id, MIN(tier) AS tier FROM (
          SELECT p.id AS id, 0 AS tier FROM packages p
            WHERE p.repo_id IN (SELECT value FROM json_each(?1)) AND (p.name = ?2 OR p.name = ?3)
          UNION ALL
          SELECT * FROM (SELECT s.rowid AS id, 1 AS tier FROM package_search s JOIN packages p ON p.id = s.rowid
            WHERE package_search MATCH ?4 AND p.repo_id IN (SELECT value FROM json_each(?1)) LIMIT ?6)
          UNION ALL
          SELECT * FROM (SELECT s.rowid AS id, 2 AS tier FROM package_search s JOIN packages p ON p.id = s.rowid
            WHERE package_search MATCH ?5 AND p.repo_id IN (SELECT value FROM json_each(?1)) LIMIT ?6)
        ) GROUP BY id
      ) c JOIN packages p ON p.id = c.id
      ORDER BY c.tier, substr(p.name, 1, length(?2)) = ?2 DESC, length(p.name), p.name, p.repo_id
      LIMIT ?7 OFFSET ?8`, [repos, name, lower, inNames, all, RANK_CAP, o.limit, o.offset]));
    const total = rows.length > 0 ? Math.min(SEARCH_COUNT_CAP, Number(rows[0].candidates)) : o.offset > 0 ? await this.countMatches(all, repos) : 0;
    return { total, rows: rows.map((r) => ({ ...toListRow(r), repoId: Number(r.repo_id) })) };
  }

  /**
   * The same search on PostgreSQL: the tiers and order of the SQLite query, with the words of
   * names (`name_words`) and of names and summaries (`all_words`) as tsvectors, each term a
   * prefix (`word:*`). Terms are letters and digits only, so they cannot carry query syntax.
   */
  private async searchPostgres(terms: string[], query: string, o: { repoIds: number[]; offset: number; limit: number }): Promise<{ total: number; rows: SearchHit[] }> {
    // Accents folded as search_words folds them (NFD, marks dropped); a term left empty goes.
    const folded = terms.map((t) => t.normalize('NFD').replace(/\p{M}/gu, '')).filter((t) => t !== '');
    if (folded.length === 0) return { total: 0, rows: [] };
    const match = folded.map((t) => `${t}:*`).join(' & ');
    const repos = `{${o.repoIds.map(Number).join(',')}}`;
    const name = asName(query);
    const lower = query.trim().toLowerCase();
    const rows = await this.sql.all(`WITH c AS (
        SELECT id, MIN(tier) AS tier FROM (
          SELECT p.id, 0 AS tier FROM packages p WHERE p.repo_id = ANY(?::bigint[]) AND (p.name = ? OR p.name = ?)
          UNION ALL
          (SELECT p.id, 1 FROM packages p WHERE p.name_words @@ to_tsquery('simple', ?) AND p.repo_id = ANY(?::bigint[]) LIMIT ?)
          UNION ALL
          (SELECT p.id, 2 FROM packages p WHERE p.all_words @@ to_tsquery('simple', ?) AND p.repo_id = ANY(?::bigint[]) LIMIT ?)
        ) u GROUP BY id)
      SELECT p.id, p.repo_id, p.name, p.display_name, p.summary, p.updated_at, COUNT(*) OVER () AS candidates
      FROM c JOIN packages p ON p.id = c.id
      ORDER BY c.tier, (substr(p.name, 1, length(?)) = ?) DESC, length(p.name), p.name, p.repo_id
      LIMIT ? OFFSET ?`, [repos, name, lower, match, repos, RANK_CAP, match, repos, RANK_CAP, name, name, o.limit, o.offset]);
    let total = rows.length > 0 ? Math.min(SEARCH_COUNT_CAP, Number(rows[0].candidates)) : 0;
    if (rows.length === 0 && o.offset > 0) {
      total = Number((await this.sql.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM packages p
        WHERE p.all_words @@ to_tsquery('simple', ?) AND p.repo_id = ANY(?::bigint[]) LIMIT ?) m`, [match, repos, SEARCH_COUNT_CAP]))?.n ?? 0);
    }
    return { total, rows: rows.map((r) => ({ ...toListRow(r), repoId: Number(r.repo_id) })) };
  }

  /** Matches of an FTS5 query in some repositories, counted up to SEARCH_COUNT_CAP. */
  private async countMatches(match: string, repos: string): Promise<number> {
    return Number(((await this.sql.get(`SELECT COUNT(*) AS n FROM (
        SELECT 1 FROM package_search s JOIN packages p ON p.id = s.rowid
        WHERE package_search MATCH ? AND p.repo_id IN (SELECT value FROM json_each(?)) LIMIT ?)`, [match, repos, SEARCH_COUNT_CAP])) as Row).n);
  }

  /** Repositories whose kept totals differ from a count of their rows (fsck). */
  async driftedTotals(): Promise<number[]> {
    return (await this.sql.all(`SELECT r.id FROM repositories r LEFT JOIN repo_stats s ON s.repo_id = r.id
      WHERE s.repo_id IS NULL
         OR s.packages != (SELECT COUNT(*) FROM packages p WHERE p.repo_id = r.id)
         OR s.files != (SELECT COUNT(*) FROM files f WHERE f.repo_id = r.id)
         OR s.bytes != (SELECT COALESCE(SUM(size), 0) FROM files f WHERE f.repo_id = r.id)`)).map((r) => Number(r.id));
  }

  /** Whether the search index holds exactly the packages' names and summaries (fsck). */
  async searchIndexIntact(): Promise<boolean> {
    // PostgreSQL's words are generated columns: they cannot drift from the names.
    if (this.sql.dialect === 'postgres') return true;
    try {
      await this.sql.exec("INSERT INTO package_search (package_search, rank) VALUES ('integrity-check', 1)");
      return true;
    } catch {
      return false;
    }
  }

  /** Count every repository's totals again and rebuild the search index from the packages. */
  async rebuild(): Promise<void> {
    await this.sql.exec(`
      INSERT INTO repo_stats (repo_id) SELECT id FROM repositories WHERE id NOT IN (SELECT repo_id FROM repo_stats);
      UPDATE repo_stats SET
        packages = (SELECT COUNT(*) FROM packages p WHERE p.repo_id = repo_stats.repo_id),
        files = (SELECT COUNT(*) FROM files f WHERE f.repo_id = repo_stats.repo_id),
        bytes = (SELECT COALESCE(SUM(size), 0) FROM files f WHERE f.repo_id = repo_stats.repo_id);`);
    if (this.sql.dialect === 'sqlite') await this.sql.exec("INSERT INTO package_search (package_search) VALUES ('rebuild')");
  }
}
