// The audit trail's rows (docs/security.md): appended inside the transaction of the change they
// record, read back newest first, paginated by id. Nothing here updates or deletes a row except
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
    if (f.since !== undefined) { where.push('at >= ?'); params.push(f.since); }
    if (f.actor !== undefined) { where.push('actor = ?'); params.push(f.actor); }
    if (f.action !== undefined) {
      if (f.action.endsWith('*')) {
        // A prefix compared as a range, so no LIKE wildcard in it matters and the index serves it.
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

  /** Drop entries older than `before` (ISO); returns how many went. */
  async prune(before: string): Promise<number> {
    return (await this.sql.run('DELETE FROM audit_log WHERE at < ?', [before])).changes;
  }
}
