// The metadata store: every read and write of the database goes through here, so the
// SQL stays in one place and another engine (PostgreSQL) can implement the same methods.
import { StatementOwner } from './statements.ts';
import type {
  FileRow, Grant, IndexRow, PackageRow, Permission, RepoKind, Repository, SessionRow, TokenRow, User, VersionRow,
} from '../core/model.ts';
import { nowIso } from '../core/model.ts';
import { transaction } from './database.ts';

type Row = Record<string, unknown>;
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
export type NewFile = Omit<FileRow, 'id' | 'createdAt' | 'uploadedBy'> & { uploadedBy?: string | null };

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

export class Store extends StatementOwner {

  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  // --- repositories
  createRepo(r: { name: string; format: string; kind: RepoKind; publicRead: boolean; options: Record<string, unknown> }): Repository {
    const res = this.stmt('INSERT INTO repositories (name, format, kind, public_read, options, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.name, r.format, r.kind, r.publicRead ? 1 : 0, JSON.stringify(r.options), nowIso());
    return this.getRepoById(Number(res.lastInsertRowid))!;
  }
  updateRepo(id: number, r: { publicRead: boolean; options: Record<string, unknown> }): void {
    this.stmt('UPDATE repositories SET public_read = ?, options = ? WHERE id = ?').run(r.publicRead ? 1 : 0, JSON.stringify(r.options), id);
  }
  getRepoByName(name: string): Repository | undefined {
    const r = this.stmt('SELECT * FROM repositories WHERE name = ?').get(name) as Row | undefined;
    return r && toRepo(r);
  }
  getRepoById(id: number): Repository | undefined {
    const r = this.stmt('SELECT * FROM repositories WHERE id = ?').get(id) as Row | undefined;
    return r && toRepo(r);
  }
  listRepos(): Repository[] {
    return (this.stmt('SELECT * FROM repositories ORDER BY name').all() as Row[]).map(toRepo);
  }
  deleteRepo(id: number): void {
    this.stmt('DELETE FROM repositories WHERE id = ?').run(id);
  }
  repoStats(id: number): { packages: number; versions: number; files: number; bytes: number; lastUpdate: string | null } {
    const p = this.stmt('SELECT COUNT(*) AS n FROM packages WHERE repo_id = ?').get(id) as Row;
    const v = this.stmt('SELECT COUNT(*) AS n FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.repo_id = ?').get(id) as Row;
    const f = this.stmt('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes, MAX(created_at) AS last FROM files WHERE repo_id = ?').get(id) as Row;
    return { packages: Number(p.n), versions: Number(v.n), files: Number(f.n), bytes: Number(f.bytes), lastUpdate: (f.last as string | null) ?? null };
  }

  // --- packages and versions
  upsertPackage(repoId: number, name: string, displayName: string): number {
    const now = nowIso();
    this.stmt(`INSERT INTO packages (repo_id, name, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (repo_id, name) DO UPDATE SET updated_at = excluded.updated_at`).run(repoId, name, displayName, now, now);
    return Number((this.stmt('SELECT id FROM packages WHERE repo_id = ? AND name = ?').get(repoId, name) as Row).id);
  }
  updatePackageMeta(id: number, meta: Record<string, unknown>): void {
    this.stmt('UPDATE packages SET meta = ? WHERE id = ?').run(JSON.stringify(meta), id);
  }
  setPackageSummary(id: number, summary: string): void {
    this.stmt('UPDATE packages SET summary = ? WHERE id = ? AND summary IS NOT ?').run(summary, id, summary);
  }
  touchPackage(id: number): void {
    this.stmt('UPDATE packages SET updated_at = ? WHERE id = ?').run(nowIso(), id);
  }
  getPackage(repoId: number, name: string): PackageRow | undefined {
    const r = this.stmt('SELECT * FROM packages WHERE repo_id = ? AND name = ?').get(repoId, name) as Row | undefined;
    return r && toPackage(r);
  }
  getPackageById(id: number): PackageRow | undefined {
    const r = this.stmt('SELECT * FROM packages WHERE id = ?').get(id) as Row | undefined;
    return r && toPackage(r);
  }
  listPackages(repoId: number): PackageRow[] {
    return (this.stmt('SELECT * FROM packages WHERE repo_id = ? ORDER BY name').all(repoId) as Row[]).map(toPackage);
  }
  deletePackage(id: number): void {
    this.stmt('DELETE FROM packages WHERE id = ?').run(id);
  }
  upsertVersion(packageId: number, version: string, meta: Record<string, unknown>): number {
    this.stmt(`INSERT INTO versions (package_id, version, meta, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (package_id, version) DO NOTHING`).run(packageId, version, JSON.stringify(meta), nowIso());
    return Number((this.stmt('SELECT id FROM versions WHERE package_id = ? AND version = ?').get(packageId, version) as Row).id);
  }
  updateVersionMeta(id: number, meta: Record<string, unknown>): void {
    this.stmt('UPDATE versions SET meta = ? WHERE id = ?').run(JSON.stringify(meta), id);
  }
  getVersion(packageId: number, version: string): VersionRow | undefined {
    const r = this.stmt('SELECT * FROM versions WHERE package_id = ? AND version = ?').get(packageId, version) as Row | undefined;
    return r && toVersion(r);
  }
  getVersionById(id: number): VersionRow | undefined {
    const r = this.stmt('SELECT * FROM versions WHERE id = ?').get(id) as Row | undefined;
    return r && toVersion(r);
  }
  listVersions(packageId: number): VersionRow[] {
    return (this.stmt('SELECT * FROM versions WHERE package_id = ? ORDER BY id').all(packageId) as Row[]).map(toVersion);
  }
  /** The version strings of a package, without reading their metadata. */
  listVersionNames(packageId: number): string[] {
    return (this.stmt('SELECT version FROM versions WHERE package_id = ? ORDER BY id').all(packageId) as Row[]).map((r) => String(r.version));
  }
  /**
   * A package's versions with their metadata less its `description`, which can be megabytes
   * per version: a page needs one version's (versionDescription), not every one's.
   */
  listVersionsBrief(packageId: number): VersionRow[] {
    return (this.stmt("SELECT id, package_id, version, json_remove(meta, '$.description') AS meta, created_at FROM versions WHERE package_id = ? ORDER BY id")
      .all(packageId) as Row[]).map(toVersion);
  }
  versionDescription(versionId: number): string | null {
    const r = this.stmt("SELECT json_extract(meta, '$.description') AS d FROM versions WHERE id = ?").get(versionId) as Row | undefined;
    return typeof r?.d === 'string' ? r.d : null;
  }
  deleteVersion(id: number): void {
    this.stmt('DELETE FROM versions WHERE id = ?').run(id);
  }

  // --- files and blobs
  insertBlob(sha256: string, size: number): void {
    this.stmt('INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(sha256, size, nowIso());
  }
  insertFile(f: NewFile): FileRow {
    const res = this.stmt(`INSERT INTO files (repo_id, version_id, path, filename, sha256, size, meta, created_at, uploaded_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(f.repoId, f.versionId, f.path, f.filename, f.sha256, f.size, JSON.stringify(f.meta), nowIso(), f.uploadedBy ?? null);
    return this.getFileById(Number(res.lastInsertRowid))!;
  }
  replaceFileContent(id: number, f: { sha256: string; size: number; meta: Record<string, unknown>; uploadedBy?: string | null }): void {
    this.stmt('UPDATE files SET sha256 = ?, size = ?, meta = ?, created_at = ?, uploaded_by = ? WHERE id = ?')
      .run(f.sha256, f.size, JSON.stringify(f.meta), nowIso(), f.uploadedBy ?? null, id);
  }
  updateFileMeta(id: number, meta: Record<string, unknown>): void {
    this.stmt('UPDATE files SET meta = ? WHERE id = ?').run(JSON.stringify(meta), id);
  }
  getFileById(id: number): FileRow | undefined {
    const r = this.stmt('SELECT * FROM files WHERE id = ?').get(id) as Row | undefined;
    return r && toFile(r);
  }
  getFileByPath(repoId: number, path: string): FileRow | undefined {
    const r = this.stmt('SELECT * FROM files WHERE repo_id = ? AND path = ?').get(repoId, path) as Row | undefined;
    return r && toFile(r);
  }
  listFilesOfVersion(versionId: number): FileRow[] {
    return (this.stmt('SELECT * FROM files WHERE version_id = ? ORDER BY filename').all(versionId) as Row[]).map(toFile);
  }
  /** Every file of one package with its version, in one query (one project page's cost). */
  listFilesOfPackage(packageId: number): FileWithVersion[] {
    const rows = this.stmt(`SELECT f.*, v.version AS v_version FROM files f JOIN versions v ON v.id = f.version_id
      WHERE v.package_id = ? ORDER BY f.filename`).all(packageId) as Row[];
    return rows.map((r) => ({ ...toFile(r), version: String(r.v_version) }));
  }
  /** Files below a path prefix (for formats without versions, such as plain files). */
  listFilesByPrefix(repoId: number, prefix: string): FileRow[] {
    const rows = this.stmt(`SELECT * FROM files WHERE repo_id = ? AND path >= ? AND path < ? ORDER BY path`)
      .all(repoId, prefix, prefix + '\uffff') as Row[];
    return rows.map(toFile);
  }
  /**
   * The entries directly inside one directory of a path tree (`dir` is '' or ends with '/'):
   * its files, and the names of its subdirectories. A skip scan over the (repo_id, path)
   * index: one seek per entry, however many files lie below the subdirectories.
   */
  listDirectory(repoId: number, dir: string, limit = Infinity): { files: FileRow[]; dirs: string[] } {
    // Paths compare as UTF-8 bytes; every path below `a/` sorts before `a0` ('0' follows '/').
    const end = dir === '' ? null : `${dir.slice(0, -1)}0`;
    const seek = (from: string, inclusive: boolean) =>
      this.stmt(`SELECT * FROM files WHERE repo_id = ? AND path ${inclusive ? '>=' : '>'} ?${end === null ? '' : ' AND path < ?'} ORDER BY path LIMIT 1`)
        .get(...(end === null ? [repoId, from] : [repoId, from, end])) as Row | undefined;
    const files: FileRow[] = [];
    const dirs: string[] = [];
    let from = dir;
    let inclusive = true;
    while (files.length + dirs.length < limit) {
      const r = seek(from, inclusive);
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
  deleteFile(id: number): void {
    this.stmt('DELETE FROM files WHERE id = ?').run(id);
  }
  /** Files of a repository added after file `afterId` (ids only grow): what changed since a cached listing. */
  listFilesAfterId(repoId: number, afterId: number): FileRow[] {
    return (this.stmt('SELECT * FROM files WHERE id > ? AND repo_id = ? ORDER BY id').all(afterId, repoId) as Row[]).map(toFile);
  }
  countFiles(repoId: number): number {
    return Number((this.stmt('SELECT COUNT(*) AS n FROM files WHERE repo_id = ?').get(repoId) as Row).n);
  }
  /** Blobs no file references, in sha256 order after `after` (for garbage collection). */
  unreferencedBlobs(after: string, limit: number): { sha256: string; size: number }[] {
    const rows = this.stmt(`SELECT b.sha256, b.size FROM blobs b WHERE b.sha256 > ? AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)
      ORDER BY b.sha256 LIMIT ?`).all(after, limit) as Row[];
    return rows.map((r) => ({ sha256: String(r.sha256), size: Number(r.size) }));
  }
  /** Drop a blob's row if no file references it; false (and nothing changed) if one does. */
  dropBlobIfUnreferenced(sha256: string): boolean {
    return this.transaction(() => {
      if (this.isBlobReferenced(sha256)) return false;
      this.stmt('DELETE FROM blobs WHERE sha256 = ?').run(sha256);
      return true;
    });
  }
  isBlobReferenced(sha256: string): boolean {
    return this.stmt('SELECT 1 FROM files WHERE sha256 = ? LIMIT 1').get(sha256) !== undefined;
  }
  /** Every file row with its repository's name, for fsck and backup; streamed, not loaded at once. */
  *iterateFiles(): Generator<{ repo: string; path: string; sha256: string; size: number }> {
    const q = this.db.prepare('SELECT r.name AS repo, f.path, f.sha256, f.size FROM files f JOIN repositories r ON r.id = f.repo_id ORDER BY r.name, f.path');
    for (const r of q.iterate() as Iterable<Row>) yield { repo: String(r.repo), path: String(r.path), sha256: String(r.sha256), size: Number(r.size) };
  }
  /** Every blob row's sha256. */
  *iterateBlobRows(): Generator<{ sha256: string; size: number }> {
    const q = this.db.prepare('SELECT sha256, size FROM blobs ORDER BY sha256');
    for (const r of q.iterate() as Iterable<Row>) yield { sha256: String(r.sha256), size: Number(r.size) };
  }

  // --- generated indexes
  getIndex(repoId: number, key: string): IndexRow | undefined {
    const r = this.stmt('SELECT * FROM indexes WHERE repo_id = ? AND key = ?').get(repoId, key) as Row | undefined;
    return r && toIndex(r);
  }
  listIndexKeys(repoId: number, scope: string): string[] {
    return (this.stmt('SELECT key FROM indexes WHERE repo_id = ? AND scope = ?').all(repoId, scope) as Row[]).map((r) => String(r.key));
  }
  /** The scopes with published documents whose names start with `prefix`. */
  listIndexScopes(repoId: number, prefix: string): string[] {
    return (this.stmt('SELECT DISTINCT scope FROM indexes WHERE repo_id = ? AND scope >= ? AND scope < ? ORDER BY scope').all(repoId, prefix, prefix + '\uffff') as Row[])
      .map((r) => String(r.scope));
  }
  /** ETag and change time of each document of a scope, without their bodies. */
  indexVersions(repoId: number, scope: string): Map<string, { etag: string; updatedAt: string }> {
    const rows = this.stmt('SELECT key, etag, updated_at FROM indexes WHERE repo_id = ? AND scope = ?').all(repoId, scope) as Row[];
    return new Map(rows.map((r) => [String(r.key), { etag: String(r.etag), updatedAt: String(r.updated_at) }]));
  }
  /**
   * Replace every document of one scope at once: readers see the old set or the new one.
   * `builtAt` is the scope's dirty generation read before the build (dirtyGeneration): only
   * the changes up to it are published, so a change that committed during the build leaves
   * the scope dirty, in the same transaction that writes the documents.
   */
  replaceScope(repoId: number, scope: string, docs: IndexDocumentRow[], builtAt?: number): void {
    this.transaction(() => {
      // Documents whose bytes change (or that appear or go) are noted in the change feed, in
      // this transaction: other processes drop them from memory (see ChangeLog).
      const before = this.indexVersions(repoId, scope);
      const note = this.stmt("INSERT INTO repo_changes (repo_id, kind, subject) VALUES (?, 'index', ?)");
      for (const d of docs) if (before.get(d.key)?.etag !== d.etag) note.run(repoId, d.key);
      const keys = new Set(docs.map((d) => d.key));
      for (const k of before.keys()) if (!keys.has(k)) note.run(repoId, k);
      this.stmt('DELETE FROM indexes WHERE repo_id = ? AND scope = ?').run(repoId, scope);
      const ins = this.stmt(`INSERT INTO indexes (repo_id, key, scope, content_type, body, gzip, etag, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (repo_id, key) DO UPDATE SET scope = excluded.scope, content_type = excluded.content_type, body = excluded.body,
        gzip = excluded.gzip, etag = excluded.etag, updated_at = excluded.updated_at`);
      const now = nowIso();
      for (const d of docs) ins.run(repoId, d.key, scope, d.contentType, d.body, d.gzip, d.etag, d.updatedAt ?? now);
      if (builtAt !== undefined) {
        this.stmt('UPDATE dirty_scopes SET published_gen = MAX(published_gen, ?) WHERE repo_id = ? AND scope = ?').run(builtAt, repoId, scope);
      }
    });
  }
  /**
   * Note that a scope's documents are out of date: call it in the transaction of the change.
   * Each mark bumps the scope's generation (rows are kept, so a generation is never reused).
   */
  markDirty(repoId: number, scope: string): void {
    this.stmt(`INSERT INTO dirty_scopes (repo_id, scope, gen, published_gen) VALUES (?, ?, 1, 0)
      ON CONFLICT (repo_id, scope) DO UPDATE SET gen = gen + 1`).run(repoId, scope);
  }
  /** The scope's latest change generation (0 when it never changed): read it before building. */
  dirtyGeneration(repoId: number, scope: string): number {
    const r = this.stmt('SELECT gen FROM dirty_scopes WHERE repo_id = ? AND scope = ?').get(repoId, scope) as Row | undefined;
    return r ? Number(r.gen) : 0;
  }
  isDirty(repoId: number, scope: string): boolean {
    return this.stmt('SELECT 1 FROM dirty_scopes WHERE repo_id = ? AND scope = ? AND gen > published_gen').get(repoId, scope) !== undefined;
  }
  /** Scopes with changes their published documents do not show yet. */
  listDirty(): { repoId: number; scope: string }[] {
    return (this.stmt('SELECT repo_id, scope FROM dirty_scopes WHERE gen > published_gen ORDER BY repo_id, scope').all() as Row[])
      .map((r) => ({ repoId: Number(r.repo_id), scope: String(r.scope) }));
  }

  // --- users, grants, tokens
  createUser(name: string, passwordHash: string, isAdmin: boolean): User {
    const res = this.stmt('INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)').run(name, passwordHash, isAdmin ? 1 : 0, nowIso());
    return this.getUserById(Number(res.lastInsertRowid))!;
  }
  getUserByName(name: string): User | undefined {
    const r = this.stmt('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
    return r && toUser(r);
  }
  getUserById(id: number): User | undefined {
    const r = this.stmt('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined;
    return r && toUser(r);
  }
  listUsers(): User[] {
    return (this.stmt('SELECT * FROM users ORDER BY name').all() as Row[]).map(toUser);
  }
  countUsers(): number {
    return Number((this.stmt('SELECT COUNT(*) AS n FROM users').get() as Row).n);
  }
  /** A new password ends every browser session of the user (one signed in elsewhere is signed out). */
  setUserPassword(id: number, passwordHash: string): void {
    this.transaction(() => {
      this.stmt('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, id);
      this.deleteSessionsOfUser(id);
    });
  }
  setUserAdmin(id: number, isAdmin: boolean): void {
    this.stmt('UPDATE users SET is_admin = ? WHERE id = ?').run(isAdmin ? 1 : 0, id);
  }
  deleteUser(id: number): void {
    this.stmt('DELETE FROM users WHERE id = ?').run(id);
  }
  listGrants(userId: number): Grant[] {
    return (this.stmt('SELECT * FROM grants WHERE user_id = ? ORDER BY repo_pattern').all(userId) as Row[])
      .map((r) => ({ userId: Number(r.user_id), repoPattern: String(r.repo_pattern), permission: r.permission as Permission }));
  }
  setGrant(userId: number, repoPattern: string, permission: Permission | null): void {
    if (permission === null) this.stmt('DELETE FROM grants WHERE user_id = ? AND repo_pattern = ?').run(userId, repoPattern);
    else this.stmt(`INSERT INTO grants (user_id, repo_pattern, permission) VALUES (?, ?, ?)
      ON CONFLICT (user_id, repo_pattern) DO UPDATE SET permission = excluded.permission`).run(userId, repoPattern, permission);
  }
  createToken(t: Omit<TokenRow, 'createdAt' | 'lastUsedAt'>): TokenRow {
    this.stmt('INSERT INTO tokens (id, user_id, name, secret_hash, repos, permission, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, t.userId, t.name, t.secretHash, JSON.stringify(t.repos), t.permission, t.expiresAt, nowIso());
    return this.getTokenById(t.id)!;
  }
  getTokenById(id: string): TokenRow | undefined {
    const r = this.stmt('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
    return r && toToken(r);
  }
  getTokenBySecretHash(hash: string): TokenRow | undefined {
    const r = this.stmt('SELECT * FROM tokens WHERE secret_hash = ?').get(hash) as Row | undefined;
    return r && toToken(r);
  }
  listTokens(userId?: number): TokenRow[] {
    const rows = userId === undefined
      ? this.stmt('SELECT * FROM tokens ORDER BY created_at').all()
      : this.stmt('SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at').all(userId);
    return (rows as Row[]).map(toToken);
  }
  touchToken(id: string): void {
    this.stmt('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(nowIso(), id);
  }
  deleteToken(id: string): void {
    this.stmt('DELETE FROM tokens WHERE id = ?').run(id);
  }

  // --- browser sessions
  createSession(s: SessionRow): void {
    this.stmt('INSERT INTO sessions (secret_hash, user_id, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.secretHash, s.userId, s.csrf, s.createdAt, s.lastSeenAt, s.expiresAt);
  }
  getSession(secretHash: string): SessionRow | undefined {
    const r = this.stmt('SELECT * FROM sessions WHERE secret_hash = ?').get(secretHash) as Row | undefined;
    return r && toSession(r);
  }
  touchSession(secretHash: string, at: number): void {
    this.stmt('UPDATE sessions SET last_seen_at = ? WHERE secret_hash = ?').run(at, secretHash);
  }
  deleteSession(secretHash: string): void {
    this.stmt('DELETE FROM sessions WHERE secret_hash = ?').run(secretHash);
  }
  deleteSessionsOfUser(userId: number): void {
    this.stmt('DELETE FROM sessions WHERE user_id = ?').run(userId);
  }
  countSessionsOfUser(userId: number): number {
    return Number((this.stmt('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?').get(userId) as Row).n);
  }
  /** Drop sessions past their absolute expiry, or idle since before `idleBefore`. */
  deleteExpiredSessions(now: number, idleBefore: number): number {
    return Number(this.stmt('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?').run(now, idleBefore).changes);
  }

  // --- settings
  getSetting(key: string): string | undefined {
    const r = this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : undefined;
  }
  setSetting(key: string, value: string): void {
    this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
