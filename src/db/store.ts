// The metadata store: every read and write of the database goes through here, so the
// SQL stays in one place and another engine (PostgreSQL) can implement the same methods.
import { randomUUID } from 'node:crypto';
import type { Row, Sql } from './sql.ts';
import type {
  FileRow, Grant, IndexRow, PackageRow, Permission, RepoKind, Repository, SessionRow, TokenRow, User, VersionRow,
} from '../core/model.ts';
import { nowIso } from '../core/model.ts';
import { badRequest } from '../core/errors.ts';

/**
 * Metadata as stored JSON. A NUL byte in it (a field of a hostile package) is refused as the
 * client's mistake on both engines: PostgreSQL's JSON functions, which read the metadata back
 * (listVersionsBrief), cannot turn \u0000 into text.
 */
function metaJson(meta: unknown): string {
  const text = JSON.stringify(meta);
  if (/(^|[^\\])(\\\\)*\\u0000/.test(text)) throw badRequest('text with a NUL byte is not accepted');
  return text;
}

const json = (v: unknown): Record<string, unknown> => JSON.parse(String(v ?? '{}'));

function toRepo(r: Row): Repository {
  return {
    id: Number(r.id), name: String(r.name), format: String(r.format), kind: r.kind as RepoKind,
    publicRead: r.public_read === 1, options: json(r.options), createdAt: String(r.created_at),
  };
}
function toPackage(r: Row): PackageRow {
  return {
    id: Number(r.id), repoId: Number(r.repo_id), name: String(r.name), displayName: String(r.display_name),
    summary: String(r.summary ?? ''), meta: json(r.meta), createdAt: String(r.created_at), updatedAt: String(r.updated_at),
  };
}
function toVersion(r: Row): VersionRow {
  return { id: Number(r.id), packageId: Number(r.package_id), version: String(r.version), meta: json(r.meta), createdAt: String(r.created_at) };
}
function toFile(r: Row): FileRow {
  return {
    id: Number(r.id), repoId: Number(r.repo_id), versionId: r.version_id == null ? null : Number(r.version_id),
    path: String(r.path), filename: String(r.filename), sha256: String(r.sha256), size: Number(r.size),
    meta: json(r.meta), createdAt: String(r.created_at), uploadedBy: (r.uploaded_by as string | null) ?? null,
  };
}
function toIndex(r: Row): IndexRow {
  return {
    repoId: Number(r.repo_id), key: String(r.key), scope: String(r.scope), contentType: String(r.content_type),
    body: r.body as Uint8Array, gzip: (r.gzip as Uint8Array | null) ?? null, etag: String(r.etag), updatedAt: String(r.updated_at),
  };
}
function toUser(r: Row): User {
  return { id: Number(r.id), name: String(r.name), passwordHash: String(r.password_hash), isAdmin: r.is_admin === 1, createdAt: String(r.created_at) };
}
function toToken(r: Row): TokenRow {
  return {
    id: String(r.id), userId: Number(r.user_id), name: String(r.name), secretHash: String(r.secret_hash),
    repos: JSON.parse(String(r.repos)), permission: r.permission as Permission,
    expiresAt: (r.expires_at as string | null) ?? null, createdAt: String(r.created_at), lastUsedAt: (r.last_used_at as string | null) ?? null,
  };
}

function toSession(r: Row): SessionRow {
  return {
    secretHash: String(r.secret_hash), userId: Number(r.user_id), csrf: String(r.csrf),
    createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at),
  };
}

/** A file row before the database gives it an id and a time. */
export type NewFile = Omit<FileRow, 'id' | 'createdAt' | 'uploadedBy'> & { uploadedBy?: string | null; /** Default: now. */ createdAt?: string };

export interface IndexDocumentRow {
  key: string;
  contentType: string;
  body: Uint8Array;
  gzip: Uint8Array | null;
  etag: string;
  /** ISO time the document last changed (default: now). */
  updatedAt?: string;
}

export interface FileWithVersion extends FileRow {
  version: string | null;
}

/** Rows per query when walking a whole table. */
const PAGE = 1000;
/** sha256s per query when asking which blobs files reference. */
export const BLOB_BATCH = 500;

export class Store {
  readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Run `fn` in one transaction (see Sql.transaction): nothing but the database may be awaited in it. */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.sql.transaction(fn);
  }


  // --- repositories
  async createRepo(r: { name: string; format: string; kind: RepoKind; publicRead: boolean; options: Record<string, unknown> }): Promise<Repository> {
    const row = await this.sql.get('INSERT INTO repositories (name, format, kind, public_read, options, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      [r.name, r.format, r.kind, r.publicRead ? 1 : 0, JSON.stringify(r.options), nowIso()]);
    return toRepo(row!);
  }
  async updateRepo(id: number, r: { publicRead: boolean; options: Record<string, unknown> }): Promise<void> {
    await this.sql.run('UPDATE repositories SET public_read = ?, options = ? WHERE id = ?', [r.publicRead ? 1 : 0, JSON.stringify(r.options), id]);
  }
  async getRepoByName(name: string): Promise<Repository | undefined> {
    const r = (await this.sql.get('SELECT * FROM repositories WHERE name = ?', [name]));
    return r && toRepo(r);
  }
  async getRepoById(id: number): Promise<Repository | undefined> {
    const r = (await this.sql.get('SELECT * FROM repositories WHERE id = ?', [id]));
    return r && toRepo(r);
  }
  async listRepos(): Promise<Repository[]> {
    return (await this.sql.all('SELECT * FROM repositories ORDER BY name')).map(toRepo);
  }
  async deleteRepo(id: number): Promise<void> {
    await this.sql.run('DELETE FROM repositories WHERE id = ?', [id]);
  }
  /**
   * A repository's totals: from repo_stats, which triggers keep in the transactions that write
   * (counting and summing the files took seconds at a million), and its versions counted
   * through the package index.
   */
  async repoStats(id: number): Promise<{ packages: number; versions: number; files: number; bytes: number; lastUpdate: string | null }> {
    const s = await this.sql.get('SELECT packages, files, bytes, last_change FROM repo_stats WHERE repo_id = ?', [id]);
    const v = (await this.sql.get('SELECT COUNT(*) AS n FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.repo_id = ?', [id])) as Row;
    return {
      packages: Number(s?.packages ?? 0), versions: Number(v.n), files: Number(s?.files ?? 0), bytes: Number(s?.bytes ?? 0),
      lastUpdate: (s?.last_change as string | null | undefined) ?? null,
    };
  }

  // --- packages and versions
  async upsertPackage(repoId: number, name: string, displayName: string): Promise<number> {
    const now = nowIso();
    (await this.sql.run(`INSERT INTO packages (repo_id, name, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (repo_id, name) DO UPDATE SET updated_at = excluded.updated_at`, [repoId, name, displayName, now, now]));
    return Number(((await this.sql.get('SELECT id FROM packages WHERE repo_id = ? AND name = ?', [repoId, name])) as Row).id);
  }
  async updatePackageMeta(id: number, meta: Record<string, unknown>): Promise<void> {
    await this.sql.run('UPDATE packages SET meta = ? WHERE id = ?', [metaJson(meta), id]);
  }
  async setPackageSummary(id: number, summary: string): Promise<void> {
    await this.sql.run('UPDATE packages SET summary = ? WHERE id = ? AND summary IS DISTINCT FROM ?', [summary, id, summary]);
  }
  async touchPackage(id: number): Promise<void> {
    await this.sql.run('UPDATE packages SET updated_at = ? WHERE id = ?', [nowIso(), id]);
  }
  async getPackage(repoId: number, name: string): Promise<PackageRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM packages WHERE repo_id = ? AND name = ?', [repoId, name]));
    return r && toPackage(r);
  }
  async getPackageById(id: number): Promise<PackageRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM packages WHERE id = ?', [id]));
    return r && toPackage(r);
  }
  async listPackages(repoId: number): Promise<PackageRow[]> {
    return (await this.sql.all('SELECT * FROM packages WHERE repo_id = ? ORDER BY name', [repoId])).map(toPackage);
  }
  async deletePackage(id: number): Promise<void> {
    await this.sql.run('DELETE FROM packages WHERE id = ?', [id]);
  }
  // --- package status (PEP 792 for PyPI): only statuses other than the format's default are kept
  async getPackageStatus(repoId: number, name: string): Promise<{ status: string; reason: string | null } | undefined> {
    const r = await this.sql.get('SELECT status, reason FROM package_status WHERE repo_id = ? AND name = ?', [repoId, name]);
    return r && { status: String(r.status), reason: (r.reason as string | null) ?? null };
  }
  async listPackageStatuses(repoId: number): Promise<{ name: string; status: string; reason: string | null }[]> {
    return (await this.sql.all('SELECT name, status, reason FROM package_status WHERE repo_id = ? ORDER BY name', [repoId]))
      .map((r) => ({ name: String(r.name), status: String(r.status), reason: (r.reason as string | null) ?? null }));
  }
  /** Sets a package's status; `null` drops the row (the default status). */
  async setPackageStatus(repoId: number, name: string, status: { status: string; reason: string | null } | null): Promise<void> {
    if (status === null) {
      await this.sql.run('DELETE FROM package_status WHERE repo_id = ? AND name = ?', [repoId, name]);
      return;
    }
    await this.sql.run(`INSERT INTO package_status (repo_id, name, status, reason, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (repo_id, name) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at`,
    [repoId, name, status.status, status.reason, nowIso()]);
  }
  async upsertVersion(packageId: number, version: string, meta: Record<string, unknown>): Promise<number> {
    (await this.sql.run(`INSERT INTO versions (package_id, version, meta, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (package_id, version) DO NOTHING`, [packageId, version, metaJson(meta), nowIso()]));
    return Number(((await this.sql.get('SELECT id FROM versions WHERE package_id = ? AND version = ?', [packageId, version])) as Row).id);
  }
  async updateVersionMeta(id: number, meta: Record<string, unknown>): Promise<void> {
    await this.sql.run('UPDATE versions SET meta = ? WHERE id = ?', [metaJson(meta), id]);
  }
  async getVersion(packageId: number, version: string): Promise<VersionRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM versions WHERE package_id = ? AND version = ?', [packageId, version]));
    return r && toVersion(r);
  }
  async getVersionById(id: number): Promise<VersionRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM versions WHERE id = ?', [id]));
    return r && toVersion(r);
  }
  async listVersions(packageId: number): Promise<VersionRow[]> {
    return (await this.sql.all('SELECT * FROM versions WHERE package_id = ? ORDER BY id', [packageId])).map(toVersion);
  }
  /** The version strings of a package, without reading their metadata. */
  async listVersionNames(packageId: number): Promise<string[]> {
    return (await this.sql.all('SELECT version FROM versions WHERE package_id = ? ORDER BY id', [packageId])).map((r) => String(r.version));
  }
  /**
   * A package's versions with their metadata less its `description`, which can be megabytes
   * per version: a page needs one version's (versionDescription), not every one's.
   */
  async listVersionsBrief(packageId: number): Promise<VersionRow[]> {
    const meta = this.sql.dialect === 'postgres' ? "(meta::jsonb - 'description')::text" : "json_remove(meta, '$.description')";
    return (await this.sql.all(`SELECT id, package_id, version, ${meta} AS meta, created_at FROM versions WHERE package_id = ? ORDER BY id`, [packageId])).map(toVersion);
  }
  async versionDescription(versionId: number): Promise<string | null> {
    const d = this.sql.dialect === 'postgres' ? "meta::jsonb ->> 'description'" : "json_extract(meta, '$.description')";
    const r = await this.sql.get(`SELECT ${d} AS d FROM versions WHERE id = ?`, [versionId]);
    return typeof r?.d === 'string' ? r.d : null;
  }
  async deleteVersion(id: number): Promise<void> {
    await this.sql.run('DELETE FROM versions WHERE id = ?', [id]);
  }

  // --- files and blobs
  async insertBlob(sha256: string, size: number): Promise<void> {
    await this.sql.run('INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [sha256, size, nowIso()]);
  }
  async insertFile(f: NewFile): Promise<FileRow> {
    const r = await this.sql.get(`INSERT INTO files (repo_id, version_id, path, filename, sha256, size, meta, created_at, uploaded_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [f.repoId, f.versionId, f.path, f.filename, f.sha256, f.size, metaJson(f.meta), f.createdAt ?? nowIso(), f.uploadedBy ?? null]);
    return toFile(r!);
  }
  async replaceFileContent(id: number, f: { sha256: string; size: number; meta: Record<string, unknown>; uploadedBy?: string | null; createdAt?: string }): Promise<void> {
    await this.sql.run('UPDATE files SET sha256 = ?, size = ?, meta = ?, created_at = ?, uploaded_by = ? WHERE id = ?', [f.sha256, f.size, metaJson(f.meta), f.createdAt ?? nowIso(), f.uploadedBy ?? null, id]);
  }
  async updateFileMeta(id: number, meta: Record<string, unknown>): Promise<void> {
    await this.sql.run('UPDATE files SET meta = ? WHERE id = ?', [metaJson(meta), id]);
  }
  async getFileById(id: number): Promise<FileRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM files WHERE id = ?', [id]));
    return r && toFile(r);
  }
  async getFileByPath(repoId: number, path: string): Promise<FileRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM files WHERE repo_id = ? AND path = ?', [repoId, path]));
    return r && toFile(r);
  }
  async listFilesOfVersion(versionId: number): Promise<FileRow[]> {
    return (await this.sql.all('SELECT * FROM files WHERE version_id = ? ORDER BY filename', [versionId])).map(toFile);
  }
  /** Every file of one package with its version, in one query (one project page's cost). */
  async listFilesOfPackage(packageId: number): Promise<FileWithVersion[]> {
    const rows = (await this.sql.all(`SELECT f.*, v.version AS v_version FROM files f JOIN versions v ON v.id = f.version_id
      WHERE v.package_id = ? ORDER BY f.filename`, [packageId])) as Row[];
    return rows.map((r) => ({ ...toFile(r), version: String(r.v_version) }));
  }
  /** Files below a path prefix (for formats without versions, such as plain files). */
  async listFilesByPrefix(repoId: number, prefix: string): Promise<FileRow[]> {
    const rows = (await this.sql.all(`SELECT * FROM files WHERE repo_id = ? AND path >= ? AND path < ? ORDER BY path`, [repoId, prefix, prefix + '\uffff'])) as Row[];
    return rows.map(toFile);
  }
  /** Path, blob and size of the files below a path prefix, without their metadata (the static tree's sync reads every file of a repository). */
  async listFileBlobs(repoId: number, prefix: string): Promise<{ path: string; sha256: string; size: number }[]> {
    const rows = (await this.sql.all('SELECT path, sha256, size FROM files WHERE repo_id = ? AND path >= ? AND path < ?', [repoId, prefix, prefix + '\uffff'])) as Row[];
    return rows.map((r) => ({ path: String(r.path), sha256: String(r.sha256), size: Number(r.size) }));
  }
  /**
   * The entries directly inside one directory of a path tree (`dir` is '' or ends with '/'):
   * its files, and the names of its subdirectories. A skip scan over the (repo_id, path)
   * index: one seek per entry, however many files lie below the subdirectories.
   */
  async listDirectory(repoId: number, dir: string, limit = Infinity): Promise<{ files: FileRow[]; dirs: string[] }> {
    // Paths compare as UTF-8 bytes; every path below `a/` sorts before `a0` ('0' follows '/').
    const end = dir === '' ? null : `${dir.slice(0, -1)}0`;
    const seek = (from: string, inclusive: boolean) =>
      this.sql.get(`SELECT * FROM files WHERE repo_id = ? AND path ${inclusive ? '>=' : '>'} ?${end === null ? '' : ' AND path < ?'} ORDER BY path LIMIT 1`,
        end === null ? [repoId, from] : [repoId, from, end]);
    const files: FileRow[] = [];
    const dirs: string[] = [];
    let from = dir;
    let inclusive = true;
    while (files.length + dirs.length < limit) {
      const r = await seek(from, inclusive);
      if (!r) break;
      const path = String(r.path);
      const slash = path.indexOf('/', dir.length);
      if (slash < 0) {
        files.push(toFile(r));
        from = path;
        inclusive = false;
      } else {
        dirs.push(path.slice(dir.length, slash));
        from = `${path.slice(0, slash)}0`;
        inclusive = true;
      }
    }
    return { files, dirs };
  }
  async deleteFile(id: number): Promise<void> {
    await this.sql.run('DELETE FROM files WHERE id = ?', [id]);
  }
  /** Files of a repository added after file `afterId` (ids only grow): what changed since a cached listing. */
  async listFilesAfterId(repoId: number, afterId: number): Promise<FileRow[]> {
    return (await this.sql.all('SELECT * FROM files WHERE id > ? AND repo_id = ? ORDER BY id', [afterId, repoId])).map(toFile);
  }
  /** The files of a repository at these paths (those that exist, in no particular order), up to 500 paths a query. */
  async getFilesByPaths(repoId: number, paths: readonly string[]): Promise<FileRow[]> {
    const out: FileRow[] = [];
    for (let i = 0; i < paths.length; i += 500) {
      const batch = paths.slice(i, i + 500);
      const rows = await this.sql.all(`SELECT * FROM files WHERE repo_id = ? AND path IN (${batch.map(() => '?').join(', ')})`, [repoId, ...batch]);
      out.push(...rows.map(toFile));
    }
    return out;
  }
  /**
   * At most `limit` files of a repository whose paths sort after `afterPath`, in path order: a
   * whole repository read a page at a time, so its rows are never all in memory at once.
   * `omitMeta` names a metadata key left out (e.g. a .deb's file list, which can be large).
   */
  async listFilesPage(repoId: number, afterPath: string | null, limit: number, omitMeta?: string): Promise<FileRow[]> {
    const meta = omitMeta === undefined ? 'meta' : this.sql.dialect === 'postgres' ? '(meta::jsonb - ?::text)::text' : 'json_remove(meta, ?)';
    const metaArg = omitMeta === undefined ? [] : [this.sql.dialect === 'postgres' ? omitMeta : `$.${omitMeta}`];
    const columns = `id, repo_id, version_id, path, filename, sha256, size, ${meta} AS meta, created_at, uploaded_by`;
    const rows = afterPath === null
      ? await this.sql.all(`SELECT ${columns} FROM files WHERE repo_id = ? ORDER BY path LIMIT ?`, [...metaArg, repoId, limit])
      : await this.sql.all(`SELECT ${columns} FROM files WHERE repo_id = ? AND path > ? ORDER BY path LIMIT ?`, [...metaArg, repoId, afterPath, limit]);
    return rows.map(toFile);
  }

  /** Every file of a repository in path order, read `pageSize` rows at a time (see listFilesPage). */
  async *eachFile(repoId: number, opts: { pageSize?: number; omitMeta?: string } = {}): AsyncGenerator<FileRow[]> {
    const pageSize = opts.pageSize ?? 2000;
    let after: string | null = null;
    for (;;) {
      const page = await this.listFilesPage(repoId, after, pageSize, opts.omitMeta);
      if (page.length === 0) return;
      yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1].path;
    }
  }
  async countFiles(repoId: number): Promise<number> {
    return Number(((await this.sql.get('SELECT COUNT(*) AS n FROM files WHERE repo_id = ?', [repoId])) as Row).n);
  }
  /** Blobs no file references, in sha256 order after `after` (for garbage collection). */
  async unreferencedBlobs(after: string, limit: number): Promise<{ sha256: string; size: number }[]> {
    const rows = (await this.sql.all(`SELECT b.sha256, b.size FROM blobs b WHERE b.sha256 > ? AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)
      AND NOT EXISTS (SELECT 1 FROM file_history h WHERE h.sha256 = b.sha256)
      ORDER BY b.sha256 LIMIT ?`, [after, limit])) as Row[];
    return rows.map((r) => ({ sha256: String(r.sha256), size: Number(r.size) }));
  }
  /**
   * Pin blobs an upload is about to store, until `unpinBlobs` (call it in the transaction that
   * writes the rows naming them, and again after, in case that failed). Null, with nothing
   * pinned, while gc deletes one of them: wait and ask again, then store the bytes anew.
   */
  async pinBlobs(sha256s: string[], ttlMs: number): Promise<string[] | null> {
    return this.transaction(async () => {
      const now = Date.now();
      for (const sha256 of sha256s) {
        if (await this.sql.get("SELECT 1 FROM blob_pins WHERE sha256 = ? AND kind = 'delete' AND expires_at > ?", [sha256, now])) return null;
      }
      const ids: string[] = [];
      for (const sha256 of sha256s) {
        const id = randomUUID();
        await this.sql.run("INSERT INTO blob_pins (id, sha256, kind, expires_at) VALUES (?, ?, 'commit', ?)", [id, sha256, now + ttlMs]);
        ids.push(id);
      }
      return ids;
    });
  }
  async unpinBlobs(ids: string[]): Promise<void> {
    for (const id of ids) await this.sql.run('DELETE FROM blob_pins WHERE id = ?', [id]);
  }
  /**
   * gc's claim on a blob: if no file references it and no upload has it pinned, drop its row
   * and pin it for deletion (returning the pin, to unpin once the bytes are gone); else null,
   * and nothing changed.
   */
  async claimBlobForDelete(sha256: string, ttlMs: number): Promise<string | null> {
    return this.transaction(async () => {
      if (await this.isBlobReferenced(sha256)) return null;
      if (await this.sql.get('SELECT 1 FROM blob_pins WHERE sha256 = ? AND expires_at > ?', [sha256, Date.now()])) return null;
      await this.sql.run('DELETE FROM blobs WHERE sha256 = ?', [sha256]);
      const id = randomUUID();
      await this.sql.run("INSERT INTO blob_pins (id, sha256, kind, expires_at) VALUES (?, ?, 'delete', ?)", [id, sha256, Date.now() + ttlMs]);
      return id;
    });
  }
  /** Forget pins past their time (their process died). */
  async dropExpiredBlobPins(): Promise<number> {
    return (await this.sql.run('DELETE FROM blob_pins WHERE expires_at <= ?', [Date.now()])).changes;
  }
  /** Drop a blob's row if no file references it; false (and nothing changed) if one does. */
  async dropBlobIfUnreferenced(sha256: string): Promise<boolean> {
    return this.transaction(async () => {
      if (await this.isBlobReferenced(sha256)) return false;
      await this.sql.run('DELETE FROM blobs WHERE sha256 = ?', [sha256]);
      return true;
    });
  }
  /** Which of `sha256s` some file references, one query per BLOB_BATCH of them. */
  async referencedBlobs(sha256s: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < sha256s.length; i += BLOB_BATCH) {
      // Padded to the full width with repeats: one statement text, so one prepared statement.
      const batch = sha256s.slice(i, i + BLOB_BATCH);
      while (batch.length < BLOB_BATCH) batch.push(batch[0]);
      // A file's past state kept for time travel (file_history) keeps its blob too.
      const list = batch.map(() => '?').join(', ');
      const rows = await this.sql.all(`SELECT sha256 FROM files WHERE sha256 IN (${list})
        UNION SELECT sha256 FROM file_history WHERE sha256 IN (${list})`, [...batch, ...batch]);
      for (const r of rows) out.add(String(r.sha256));
    }
    return out;
  }
  async isBlobReferenced(sha256: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 FROM files WHERE sha256 = ? LIMIT 1', [sha256])) !== undefined
      || (await this.sql.get('SELECT 1 FROM file_history WHERE sha256 = ? LIMIT 1', [sha256])) !== undefined;
  }
  /** Every file row with its repository's name, for fsck and backup; streamed, not loaded at once. */
  async *iterateFiles(): AsyncGenerator<{ repo: string; path: string; sha256: string; size: number }> {
    // Pages by key, so no statement or cursor stays open between the caller's awaits.
    let last: [string, string] | null = null;
    for (;;) {
      const rows: Row[] = await this.sql.all(`SELECT r.name AS repo, f.path, f.sha256, f.size FROM files f JOIN repositories r ON r.id = f.repo_id
        ${last ? 'WHERE (r.name > ? OR (r.name = ? AND f.path > ?))' : ''} ORDER BY r.name, f.path LIMIT ${PAGE}`, last ? [last[0], last[0], last[1]] : []);
      for (const r of rows) yield { repo: String(r.repo), path: String(r.path), sha256: String(r.sha256), size: Number(r.size) };
      if (rows.length < PAGE) return;
      const end = rows[rows.length - 1];
      last = [String(end.repo), String(end.path)];
    }
  }
  /** Every blob row's sha256. */
  async *iterateBlobRows(): AsyncGenerator<{ sha256: string; size: number }> {
    let last = '';
    for (;;) {
      const rows = await this.sql.all(`SELECT sha256, size FROM blobs WHERE sha256 > ? ORDER BY sha256 LIMIT ${PAGE}`, [last]);
      for (const r of rows) yield { sha256: String(r.sha256), size: Number(r.size) };
      if (rows.length < PAGE) return;
      last = String(rows[rows.length - 1].sha256);
    }
  }

  // --- generated indexes
  async getIndex(repoId: number, key: string): Promise<IndexRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM indexes WHERE repo_id = ? AND key = ?', [repoId, key]));
    return r && toIndex(r);
  }
  async listIndexKeys(repoId: number, scope: string): Promise<string[]> {
    return (await this.sql.all('SELECT key FROM indexes WHERE repo_id = ? AND scope = ?', [repoId, scope])).map((r) => String(r.key));
  }
  /** Whether the scope has published documents (asked per upload of a burst: the index answers it alone). */
  async hasIndexScope(repoId: number, scope: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS one FROM indexes WHERE repo_id = ? AND scope = ? LIMIT 1', [repoId, scope])) !== undefined;
  }
  /** The scopes with published documents whose names start with `prefix`. */
  async listIndexScopes(repoId: number, prefix: string): Promise<string[]> {
    return (await this.sql.all('SELECT DISTINCT scope FROM indexes WHERE repo_id = ? AND scope >= ? AND scope < ? ORDER BY scope', [repoId, prefix, prefix + '\uffff']))
      .map((r) => String(r.scope));
  }
  /** ETag and change time of each document of a scope, without their bodies. */
  async indexVersions(repoId: number, scope: string): Promise<Map<string, { etag: string; updatedAt: string }>> {
    const rows = (await this.sql.all('SELECT key, etag, updated_at FROM indexes WHERE repo_id = ? AND scope = ?', [repoId, scope])) as Row[];
    return new Map(rows.map((r) => [String(r.key), { etag: String(r.etag), updatedAt: String(r.updated_at) }]));
  }
  /** Key, ETag and change time of the documents of one scope, without their bodies (the static tree). */
  async listIndexMetaOfScope(repoId: number, scope: string): Promise<{ key: string; etag: string; updatedAt: string; gzip: boolean }[]> {
    const rows = (await this.sql.all('SELECT key, etag, updated_at, gzip IS NOT NULL AS has_gzip FROM indexes WHERE repo_id = ? AND scope = ?', [repoId, scope])) as Row[];
    return rows.map((r) => ({ key: String(r.key), etag: String(r.etag), updatedAt: String(r.updated_at), gzip: Boolean(Number(r.has_gzip)) }));
  }
  /** Key, ETag and change time of every document of a repository, without their bodies (the static tree's sync). */
  async listIndexMeta(repoId: number): Promise<{ key: string; etag: string; updatedAt: string; gzip: boolean }[]> {
    const rows = (await this.sql.all('SELECT key, etag, updated_at, gzip IS NOT NULL AS has_gzip FROM indexes WHERE repo_id = ?', [repoId])) as Row[];
    return rows.map((r) => ({ key: String(r.key), etag: String(r.etag), updatedAt: String(r.updated_at), gzip: Boolean(Number(r.has_gzip)) }));
  }
  /**
   * Replace every document of one scope at once: readers see the old set or the new one.
   * `builtAt` is the scope's dirty generation read before the build (dirtyGeneration): only
   * the changes up to it are published, so a change that committed during the build leaves
   * the scope dirty, in the same transaction that writes the documents.
   */
  async replaceScope(repoId: number, scope: string, docs: IndexDocumentRow[], builtAt?: number): Promise<void> {
    await this.transaction(async () => {
      // Documents whose bytes change (or that appear or go) are noted in the change feed, in
      // this transaction: other processes drop them from memory (see ChangeLog).
      const before = await this.indexVersions(repoId, scope);
      const note = (key: string) => this.sql.run("INSERT INTO repo_changes (repo_id, kind, subject) VALUES (?, 'index', ?)", [repoId, key]);
      for (const d of docs) if (before.get(d.key)?.etag !== d.etag) await note(d.key);
      const keys = new Set(docs.map((d) => d.key));
      for (const k of before.keys()) if (!keys.has(k)) await note(k);
      await this.sql.run('DELETE FROM indexes WHERE repo_id = ? AND scope = ?', [repoId, scope]);
      const now = nowIso();
      for (const d of docs) {
        await this.sql.run(`INSERT INTO indexes (repo_id, key, scope, content_type, body, gzip, etag, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (repo_id, key) DO UPDATE SET scope = excluded.scope, content_type = excluded.content_type, body = excluded.body,
          gzip = excluded.gzip, etag = excluded.etag, updated_at = excluded.updated_at`,
        [repoId, d.key, scope, d.contentType, d.body, d.gzip, d.etag, d.updatedAt ?? now]);
      }
      if (builtAt !== undefined) {
        await this.sql.run('UPDATE dirty_scopes SET published_gen = CASE WHEN published_gen > ? THEN published_gen ELSE ? END WHERE repo_id = ? AND scope = ?',
          [builtAt, builtAt, repoId, scope]);
      }
    });
  }
  /**
   * Note that a scope's documents are out of date: call it in the transaction of the change.
   * Each mark bumps the scope's generation (rows are kept, so a generation is never reused).
   */
  async markDirty(repoId: number, scope: string): Promise<void> {
    (await this.sql.run(`INSERT INTO dirty_scopes (repo_id, scope, gen, published_gen) VALUES (?, ?, 1, 0)
      ON CONFLICT (repo_id, scope) DO UPDATE SET gen = dirty_scopes.gen + 1`, [repoId, scope]));
  }
  /** The scope's latest change generation (0 when it never changed): read it before building. */
  async dirtyGeneration(repoId: number, scope: string): Promise<number> {
    const r = (await this.sql.get('SELECT gen FROM dirty_scopes WHERE repo_id = ? AND scope = ?', [repoId, scope]));
    return r ? Number(r.gen) : 0;
  }
  async isDirty(repoId: number, scope: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 FROM dirty_scopes WHERE repo_id = ? AND scope = ? AND gen > published_gen', [repoId, scope])) !== undefined;
  }
  /** Scopes with changes their published documents do not show yet. */
  async listDirty(): Promise<{ repoId: number; scope: string }[]> {
    return (await this.sql.all('SELECT repo_id, scope FROM dirty_scopes WHERE gen > published_gen ORDER BY repo_id, scope'))
      .map((r) => ({ repoId: Number(r.repo_id), scope: String(r.scope) }));
  }

  // --- users, grants, tokens
  async createUser(name: string, passwordHash: string, isAdmin: boolean): Promise<User> {
    const r = await this.sql.get('INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?) RETURNING *', [name, passwordHash, isAdmin ? 1 : 0, nowIso()]);
    return toUser(r!);
  }
  /** Create the user unless one of that name exists (null then): the check and the insert are one transaction. */
  async createUserIfAbsent(name: string, passwordHash: string, isAdmin: boolean): Promise<User | null> {
    return this.transaction(async () => ((await this.getUserByName(name)) ? null : this.createUser(name, passwordHash, isAdmin)));
  }
  async getUserByName(name: string): Promise<User | undefined> {
    const r = (await this.sql.get('SELECT * FROM users WHERE name = ?', [name]));
    return r && toUser(r);
  }
  async getUserById(id: number): Promise<User | undefined> {
    const r = (await this.sql.get('SELECT * FROM users WHERE id = ?', [id]));
    return r && toUser(r);
  }
  async listUsers(): Promise<User[]> {
    return (await this.sql.all('SELECT * FROM users ORDER BY name')).map(toUser);
  }
  async countUsers(): Promise<number> {
    return Number(((await this.sql.get('SELECT COUNT(*) AS n FROM users')) as Row).n);
  }
  /** A new password ends every browser session of the user (one signed in elsewhere is signed out). */
  async setUserPassword(id: number, passwordHash: string): Promise<void> {
    await this.transaction(async () => {
      await this.sql.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, id]);
      await this.deleteSessionsOfUser(id);
    });
  }
  async setUserAdmin(id: number, isAdmin: boolean): Promise<void> {
    await this.sql.run('UPDATE users SET is_admin = ? WHERE id = ?', [isAdmin ? 1 : 0, id]);
  }
  async deleteUser(id: number): Promise<void> {
    await this.sql.run('DELETE FROM users WHERE id = ?', [id]);
  }
  async listGrants(userId: number): Promise<Grant[]> {
    return (await this.sql.all('SELECT * FROM grants WHERE user_id = ? ORDER BY repo_pattern', [userId]))
      .map((r) => ({ userId: Number(r.user_id), repoPattern: String(r.repo_pattern), permission: r.permission as Permission }));
  }
  async setGrant(userId: number, repoPattern: string, permission: Permission | null): Promise<void> {
    if (permission === null) await this.sql.run('DELETE FROM grants WHERE user_id = ? AND repo_pattern = ?', [userId, repoPattern]);
    else await this.sql.run(`INSERT INTO grants (user_id, repo_pattern, permission) VALUES (?, ?, ?)
      ON CONFLICT (user_id, repo_pattern) DO UPDATE SET permission = excluded.permission`, [userId, repoPattern, permission]);
  }
  async createToken(t: Omit<TokenRow, 'createdAt' | 'lastUsedAt'>): Promise<TokenRow> {
    await this.sql.run('INSERT INTO tokens (id, user_id, name, secret_hash, repos, permission, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [t.id, t.userId, t.name, t.secretHash, JSON.stringify(t.repos), t.permission, t.expiresAt, nowIso()]);
    return (await this.getTokenById(t.id))!;
  }
  async getTokenById(id: string): Promise<TokenRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM tokens WHERE id = ?', [id]));
    return r && toToken(r);
  }
  async getTokenBySecretHash(hash: string): Promise<TokenRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM tokens WHERE secret_hash = ?', [hash]));
    return r && toToken(r);
  }
  async listTokens(userId?: number): Promise<TokenRow[]> {
    const rows = userId === undefined
      ? (await this.sql.all('SELECT * FROM tokens ORDER BY created_at'))
      : (await this.sql.all('SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at', [userId]));
    return (rows as Row[]).map(toToken);
  }
  async touchToken(id: string): Promise<void> {
    await this.sql.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [nowIso(), id]);
  }
  async deleteToken(id: string): Promise<void> {
    await this.sql.run('DELETE FROM tokens WHERE id = ?', [id]);
  }

  // --- browser sessions
  async createSession(s: SessionRow): Promise<void> {
    await this.sql.run('INSERT INTO sessions (secret_hash, user_id, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [s.secretHash, s.userId, s.csrf, s.createdAt, s.lastSeenAt, s.expiresAt]);
  }
  async getSession(secretHash: string): Promise<SessionRow | undefined> {
    const r = (await this.sql.get('SELECT * FROM sessions WHERE secret_hash = ?', [secretHash]));
    return r && toSession(r);
  }
  async touchSession(secretHash: string, at: number): Promise<void> {
    await this.sql.run('UPDATE sessions SET last_seen_at = ? WHERE secret_hash = ?', [at, secretHash]);
  }
  async deleteSession(secretHash: string): Promise<void> {
    await this.sql.run('DELETE FROM sessions WHERE secret_hash = ?', [secretHash]);
  }
  async deleteSessionsOfUser(userId: number): Promise<void> {
    await this.sql.run('DELETE FROM sessions WHERE user_id = ?', [userId]);
  }
  async countSessionsOfUser(userId: number): Promise<number> {
    return Number(((await this.sql.get('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [userId])) as Row).n);
  }
  /** Drop sessions past their absolute expiry, or idle since before `idleBefore`. */
  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return Number((await this.sql.run('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?', [now, idleBefore])).changes);
  }

  // --- settings
  async getSetting(key: string): Promise<string | undefined> {
    const r = (await this.sql.get('SELECT value FROM settings WHERE key = ?', [key]));
    return r ? String(r.value) : undefined;
  }
  async setSetting(key: string, value: string): Promise<void> {
    await this.sql.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}
