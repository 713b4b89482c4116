// The audit trail's rows (docs/security.md): appended inside the transaction of the change they
// record, read back newest first, paginated by id. Filters other than the repository scan from
// the newest entry back (no index: each would cost every upload its upkeep), which stops as
// soon as a page is full. Nothing here updates or deletes a row except
// `prune`, which only the server's own retention (auditKeepDays) calls.
import type { Param, Row, Sql } from './sql.ts';

export interface AuditRow {
  id: number;
  /** ISO time of the change. */
  at: string;
  /** A user name, or `anonymous`, `cli` (a command on the data directory) or `system` (the server itself). */
  actor: string;
  tokenId: string | null;
  tokenName: string | null;
  /** The client address as the server sees it (behind trusted proxies, the forwarded one). */
  address: string | null;
  repo: string | null;
  action: string;
  /** What was changed: a path, a package, a user, a token… */
  target: string | null;
  detail: Record<string, unknown>;
}

export type NewAuditRow = Omit<AuditRow, 'id' | 'at'> & { at?: string };

export interface AuditFilter {
  repo?: string;
  /** ISO time: entries at or after it. */
  since?: string;
  actor?: string;
  /** Exact, or a prefix when it ends with `*` (`user.*`). */
  action?: string;
  /** Entries with a smaller id (the previous page's `next`). */
  before?: number;
  limit: number;
}

function toRow(r: Row): AuditRow {
  return {
    id: Number(r.id), at: String(r.at), actor: String(r.actor), tokenId: (r.token_id as string | null) ?? null,
    tokenName: (r.token_name as string | null) ?? null, address: (r.address as string | null) ?? null,
    repo: (r.repo as string | null) ?? null, action: String(r.action), target: (r.target as string | null) ?? null,
    detail: JSON.parse(String(r.detail ?? '{}')),
  };
}

export class AuditLog {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  async insert(e: NewAuditRow): Promise<void> {
    await this.sql.run('INSERT INTO audit_log (at, actor, token_id, token_name, address, repo, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [e.at ?? new Date().toISOString(), e.actor, e.tokenId, e.tokenName, e.address, e.repo, e.action, e.target, JSON.stringify(e.detail)]);
  }

  /** Newest first. */
  async list(f: AuditFilter): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (f.repo !== undefined) { where.push('repo = ?'); params.push(f.repo); }
    if (f.since !== undefined) {
      const first = await this.firstIdSince(f.since);
      if (first === null) return [];
      where.push('id >= ?', 'at >= ?');
      params.push(first, f.since);
    }
    if (f.actor !== undefined) { where.push('actor = ?'); params.push(f.actor); }
    if (f.action !== undefined) {
      if (f.action.endsWith('*')) {
        // A prefix compared as a range, so no LIKE wildcard in it matters.
        const prefix = f.action.slice(0, -1);
        where.push('action >= ? AND action < ?');
        params.push(prefix, prefix + '\u{10FFFF}');
      } else {
        where.push('action = ?');
        params.push(f.action);
      }
    }
    if (f.before !== undefined) { where.push('id < ?'); params.push(f.before); }
    params.push(f.limit);
    const rows = await this.sql.all(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, params);
    return rows.map(toRow);
  }

  /**
   * The first entry at or after `since` (ISO), by bisecting the ids: entries are appended in
   * commit order with the time of their transaction, so times grow with ids, and a few lookups
   * by primary key replace an index on the time that every upload would pay for. (Were the
   * clock set back, entries written meanwhile could be missed by a `since` near that moment.)
   */
  async firstIdSince(since: string): Promise<number | null> {
    const ends = await this.sql.get('SELECT MIN(id) AS lo, MAX(id) AS hi FROM audit_log');
    if (ends?.lo == null) return null;
    let lo = Number(ends.lo);
    let hi = Number(ends.hi);
    const atOrAfter = async (id: number) => this.sql.get('SELECT id, at FROM audit_log WHERE id >= ? ORDER BY id LIMIT 1', [id]);
    const last = await atOrAfter(hi);
    if (!last || String(last.at) < since) return null;
    // The smallest id x whose next entry (the first at or after x) is at or after `since`:
    // true at `hi`, and once true, true for every larger x.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = (await atOrAfter(mid))!;
      if (String(row.at) >= since) hi = mid;
      // Every x up to this entry's id has the same next entry: none of them.
      else lo = Number(row.id) + 1;
    }
    return Number((await atOrAfter(lo))!.id);
  }

  /** Drop entries older than `before` (ISO); returns how many went. */
  async prune(before: string): Promise<number> {
    const first = await this.firstIdSince(before);
    if (first === null) return (await this.sql.run('DELETE FROM audit_log WHERE at < ?', [before])).changes;
    return (await this.sql.run('DELETE FROM audit_log WHERE id < ?', [first])).changes;
  }
}
