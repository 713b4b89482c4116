// The history of a hosted repository's files and its named snapshots (time travel: see
// src/core/time-travel.ts). The rows of file_history are written by triggers on `files`
// (migrations.ts); this module only reads them, prunes them and keeps the snapshots.
import type { Row, Sql } from './sql.ts';
import type { FileRow } from '../core/model.ts';
import { nowIso } from '../core/model.ts';

/** A file as it was at an instant, with the package and version it belonged to then. */
export interface FileAsOf extends FileRow {
  /** The package's stored name (null for formats without packages). */
  package: string | null;
  displayName: string | null;
  version: string | null;
}

export interface Snapshot {
  name: string;
  /** The instant it lists (ISO, UTC, milliseconds). */
  at: string;
  createdAt: string;
  createdBy: string | null;
}

const json = (v: unknown): Record<string, unknown> => JSON.parse(String(v ?? '{}'));

function toFileAsOf(r: Row): FileAsOf {
  return {
    id: Number(r.file_id), repoId: Number(r.repo_id), versionId: r.version_id == null ? null : Number(r.version_id),
    path: String(r.path), filename: String(r.filename), sha256: String(r.sha256), size: Number(r.size),
    meta: json(r.meta), createdAt: String(r.created_at), uploadedBy: (r.uploaded_by as string | null) ?? null,
    package: (r.package as string | null) ?? null, displayName: (r.display_name as string | null) ?? null, version: (r.version as string | null) ?? null,
  };
}

function toSnapshot(r: Row): Snapshot {
  return { name: String(r.name), at: String(r.at), createdAt: String(r.created_at), createdBy: (r.created_by as string | null) ?? null };
}

/** The rows of a repository closed before `before` that no snapshot of it or of its groups (a group's lists its members' files) lists. */
function prunable(repoId: number, before: string, groupIds: readonly number[]): { where: string; args: (string | number)[] } {
  const owners = [repoId, ...groupIds];
  return {
    where: `repo_id = ? AND valid_to IS NOT NULL AND valid_to < ?
      AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.repo_id IN (${owners.map(() => '?').join(', ')})
        AND s.at >= file_history.valid_from AND s.at < file_history.valid_to)`,
    args: [repoId, before, ...owners],
  };
}

export class HistoryStore {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /**
   * Every file of a repository as it was at `at` (an ISO instant), in path order. A row still
   * open reads the file's columns from `files` (they are what they were since it opened); a
   * closed one carries its own. `only`: one path, one package's files, or the files below a
   * prefix (each an index range, not the repository's whole history).
   */
  async filesAsOf(repoId: number, at: string, only: { path?: string; package?: string; prefix?: string } = {}): Promise<FileAsOf[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (only.path !== undefined) (where.push('h.path = ?'), args.push(only.path));
    if (only.package !== undefined) (where.push('h.package = ?'), args.push(only.package));
    // Paths compare as UTF-8 bytes (as Store.listFilesByPrefix): U+FFFF sorts after any path below the prefix.
    if (only.prefix) (where.push('h.path >= ? AND h.path < ?'), args.push(only.prefix, `${only.prefix}\uffff`));
    const rows = await this.sql.all(`SELECT h.file_id, h.repo_id, h.path, h.package, h.display_name, h.version,
        COALESCE(h.filename, f.filename) AS filename, COALESCE(h.sha256, f.sha256) AS sha256, COALESCE(h.size, f.size) AS size,
        COALESCE(h.meta, f.meta) AS meta, COALESCE(h.created_at, f.created_at) AS created_at,
        CASE WHEN h.valid_to IS NULL THEN f.uploaded_by ELSE h.uploaded_by END AS uploaded_by, f.version_id
      FROM file_history h LEFT JOIN files f ON h.valid_to IS NULL AND f.id = h.file_id
      WHERE h.repo_id = ? AND h.valid_from <= ? AND (h.valid_to IS NULL OR h.valid_to > ?)${where.map((w) => ` AND ${w}`).join('')}
      ${only.package === undefined ? 'ORDER BY h.path' : ''}`, [repoId, at, at, ...args]);
    // A package's rows come by the package index, unsorted (an ORDER BY would make the planner
    // walk the repository's paths instead): sorted here.
    if (only.package !== undefined) rows.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1));
    // An open row whose file is gone cannot be (the delete closes it in the same statement);
    // skipped rather than served half-empty should a row be left open by hand.
    return rows.filter((r) => r.sha256 != null).map(toFileAsOf);
  }

  /**
   * The instant of the repository's last change at or before `at` (a file added, changed or
   * deleted), or null when it had none: every instant from it up to the next change lists the
   * same files, so time travel keys its memo by it (a client asking for many instants between
   * two changes gets one build, not one each).
   */
  async lastChangeAt(repoId: number, at: string): Promise<string | null> {
    const r = await this.sql.get(`SELECT MAX(t) AS t FROM (
        SELECT MAX(valid_from) AS t FROM file_history WHERE repo_id = ? AND valid_from <= ?
        UNION ALL SELECT MAX(valid_to) AS t FROM file_history WHERE repo_id = ? AND valid_to <= ?) changes`, [repoId, at, repoId, at]);
    return r?.t == null ? null : String(r.t);
  }

  /** The packages a repository listed at `at` (name, display name and its first file's time), by name, without their files. */
  async packagesAsOf(repoId: number, at: string): Promise<{ name: string; displayName: string; createdAt: string }[]> {
    const rows = await this.sql.all(`SELECT h.package, MIN(h.display_name) AS display_name, MIN(h.valid_from) AS created_at
      FROM file_history h WHERE h.repo_id = ? AND h.package IS NOT NULL AND h.valid_from <= ? AND (h.valid_to IS NULL OR h.valid_to > ?)
      GROUP BY h.package ORDER BY h.package`, [repoId, at, at]);
    return rows.map((r) => ({ name: String(r.package), displayName: String(r.display_name ?? r.package), createdAt: String(r.created_at) }));
  }

  /**
   * Drop the history rows of a repository that closed before `before`, except those a
   * snapshot lists (valid at its instant). Their blobs are then freed by gc when nothing else
   * names them; `groupIds`: groups it is a member of, whose snapshots count too. Returns the
   * number of rows dropped.
   */
  async prune(repoId: number, before: string, groupIds: readonly number[] = []): Promise<number> {
    const { where, args } = prunable(repoId, before, groupIds);
    return (await this.sql.run(`DELETE FROM file_history WHERE ${where}`, args)).changes;
  }

  /** The blobs the rows `prune` would drop name (some may be named elsewhere too). */
  async prunableBlobs(repoId: number, before: string, groupIds: readonly number[] = []): Promise<string[]> {
    const { where, args } = prunable(repoId, before, groupIds);
    return (await this.sql.all(`SELECT DISTINCT sha256 FROM file_history WHERE ${where}`, args)).map((r) => String(r.sha256));
  }

  /** Drop every history row of one path of a repository (an administrator's purge); returns the number dropped. */
  async purgePath(repoId: number, path: string): Promise<number> {
    return (await this.sql.run('DELETE FROM file_history WHERE repo_id = ? AND path = ?', [repoId, path])).changes;
  }

  // --- snapshots
  async listSnapshots(repoId: number): Promise<Snapshot[]> {
    return (await this.sql.all('SELECT * FROM snapshots WHERE repo_id = ? ORDER BY name', [repoId])).map(toSnapshot);
  }
  async getSnapshot(repoId: number, name: string): Promise<Snapshot | undefined> {
    const r = await this.sql.get('SELECT * FROM snapshots WHERE repo_id = ? AND name = ?', [repoId, name]);
    return r && toSnapshot(r);
  }
  /** False (and nothing written) when the name is taken. */
  async createSnapshot(repoId: number, s: { name: string; at: string; createdBy: string | null }): Promise<boolean> {
    const r = await this.sql.run('INSERT INTO snapshots (repo_id, name, at, created_at, created_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [repoId, s.name, s.at, nowIso(), s.createdBy]);
    return r.changes > 0;
  }
  async deleteSnapshot(repoId: number, name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM snapshots WHERE repo_id = ? AND name = ?', [repoId, name])).changes > 0;
  }
}
