// The static tree (docs/static.md): the published indexes and files of public hosted
// repositories, written into a directory that a web server (nginx, Caddy, a CDN's origin)
// sends without asking Wharf. Layout below the root:
//   <repo>/<path>                                what Wharf answers at /<repo>/<path>
//   -/negotiated/<repo>/<path>index.<variant>    pages chosen by the Accept header (PyPI's simple pages)
//   -/state/<repo>.json                          what the tree holds for <repo> (its manifest)
//   -/tmp/                                       files being written, renamed into place
// Wharf's own URLs are below /-/, so no repository is named '-'.
//
// Each file is written to -/tmp and renamed into place, so a reader sees the old bytes or the
// new ones. Files a document names are written before the document (StaticEntry.phase), and
// what no document names any more is removed last. A sync runs under the repository's publish
// lock, so replicas sharing one tree take turns, and compares with the manifest so only what
// changed is written.
import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import type { Store } from '../db/store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { FormatPlugin, RepoContext, StaticEntry } from './format-plugin.ts';
import type { Logger } from './logger.ts';
import type { Repository } from './model.ts';

/** One file of the tree as planned: where, what (its identity in the manifest), and how to write it. */
interface Planned {
  rel: string;
  identity: string;
  phase: number;
  /** For a blob: its size, checked against the file on disk by a full sync. */
  size?: number;
  write(tmp: string): Promise<void>;
}

export interface SyncResult {
  written: number;
  removed: number;
  failed: number;
}

const INTERNAL = '-';
const TMP_MAX_AGE_MS = 3600_000;

/** Whether a repository belongs in the tree: anonymous reads of its own hosted content. */
export function servedStatically(repo: Repository, plugin: FormatPlugin): boolean {
  return repo.kind === 'hosted' && repo.publicRead && plugin.staticEntries !== undefined;
}

/** A relative path that stays below the root: no empty, '.' or '..' segment. */
function safeRel(rel: string): boolean {
  return rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\0'));
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

export class StaticTree {
  readonly root: string;
  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly log: Logger;
  private seq = 0;
  /** False once a hard link from the blob store failed (another filesystem, S3): blobs are copied. */
  private linkable = true;
  /**
   * Manifests as this process last read or wrote them, with the file's identity then: one
   * another process rewrote since (a replica sharing the tree) is read again.
   */
  private readonly manifests = new Map<string, { stamp: string; entries: Record<string, string> }>();

  constructor(root: string, store: Store, blobs: BlobStore, log: Logger) {
    this.root = root;
    this.store = store;
    this.blobs = blobs;
    this.log = log;
  }

  private get tmpDir(): string {
    return join(this.root, INTERNAL, 'tmp');
  }

  private manifestPath(repoName: string): string {
    return join(this.root, INTERNAL, 'state', `${repoName}.json`);
  }

  /** Create the layout and drop temp files a crash left (old ones only: a replica sharing the tree may be writing). */
  async init(): Promise<void> {
    for (const d of ['tmp', 'state', 'negotiated']) await mkdir(join(this.root, INTERNAL, d), { recursive: true });
    for (const name of await readdir(this.tmpDir)) {
      const p = join(this.tmpDir, name);
      const st = await lstat(p).catch(() => null);
      if (st && Date.now() - st.mtimeMs > TMP_MAX_AGE_MS) await rm(p, { recursive: true, force: true });
    }
  }

  private tmpPath(): string {
    return join(this.tmpDir, `${process.pid}-${Date.now().toString(36)}-${this.seq++}`);
  }

  /**
   * Bring one repository's part of the tree in step with the database. The caller holds the
   * repository's publish lock. `full` (at start) trusts the manifest only for blobs whose
   * size on disk matches, rewrites every document, and removes whatever else lies there.
   */
  async syncLocked(ctx: RepoContext, plugin: FormatPlugin, opts: { full?: boolean } = {}): Promise<SyncResult> {
    // Read again: another replica may have made it private or deleted it.
    const repo = await this.store.getRepoById(ctx.repo.id);
    if (!repo || repo.name !== ctx.repo.name || !servedStatically(repo, plugin)) {
      const removed = await this.removeRepo(ctx.repo.name);
      return { written: 0, removed, failed: 0 };
    }
    const meta = await this.store.listIndexMeta(repo.id);
    const entries = await plugin.staticEntries!({ ...ctx, repo }, meta.map((m) => m.key));
    const desired = this.plan(repo, entries, new Map(meta.map((m) => [m.key, m])));

    const old = await this.readManifest(repo.name);
    const full = opts.full || old === null;
    const onDisk = full ? await this.scan(repo.name) : new Set<string>();
    const previous = old ?? {};

    const unchanged = !full && Object.keys(previous).length === desired.size;
    const todo: Planned[] = [];
    for (const p of desired.values()) {
      if (previous[p.rel] !== p.identity) todo.push(p);
      else if (full) {
        // A blob kept only when the file is there with its size; documents are cheap to rewrite.
        const st = p.size === undefined ? null : await stat(join(this.root, p.rel)).catch(() => null);
        if (!st || st.size !== p.size) todo.push(p);
      }
    }
    todo.sort((a, b) => a.phase - b.phase);
    const manifest: Record<string, string> = {};
    for (const p of desired.values()) manifest[p.rel] = p.identity;
    let failed = 0;
    for (const p of todo) {
      const tmp = this.tmpPath();
      try {
        await p.write(tmp);
        await this.place(tmp, join(this.root, p.rel));
      } catch (err) {
        failed++;
        delete manifest[p.rel];
        await rm(tmp, { force: true }).catch(() => {});
        this.log.warn({ err, repo: repo.name, path: p.rel }, 'static tree: a file could not be written; Wharf answers for it');
      }
    }
    // Same size and every desired entry as before: nothing to remove, the manifest stands.
    if (unchanged && todo.length === 0) return { written: 0, removed: 0, failed: 0 };
    let removed = 0;
    for (const rel of new Set([...Object.keys(previous), ...onDisk])) {
      if (desired.has(rel)) continue;
      if (await this.unlinkAndPrune(rel, repo.name)) removed++;
    }
    await this.writeManifest(repo.name, manifest);
    return { written: todo.length - failed, removed, failed };
  }

  /**
   * Write what some just-published scopes need (StaticEntry lists from staticEntriesOf), never
   * removing anything: the full sync that follows does. The caller holds the publish lock.
   * Returns false when it cannot (no manifest yet): run the full sync instead.
   */
  async writeScopesLocked(ctx: RepoContext, plugin: FormatPlugin, scopes: string[]): Promise<boolean> {
    const repo = await this.store.getRepoById(ctx.repo.id);
    if (!repo || repo.name !== ctx.repo.name || !servedStatically(repo, plugin) || !plugin.staticEntriesOf) return false;
    const previous = await this.readManifest(repo.name);
    const cached = this.manifests.get(repo.name);
    if (!previous || !cached) return false;
    const meta = new Map<string, { etag: string; updatedAt: string; gzip: boolean }>();
    for (const scope of scopes) for (const m of await this.store.listIndexMetaOfScope(repo.id, scope)) meta.set(m.key, m);
    const desired = this.plan(repo, await plugin.staticEntriesOf({ ...ctx, repo }, scopes), meta);
    const todo = [...desired.values()].filter((p) => previous[p.rel] !== p.identity).sort((a, b) => a.phase - b.phase);
    if (todo.length === 0) return true;
    const entries = { ...previous };
    for (const p of todo) {
      const tmp = this.tmpPath();
      try {
        await p.write(tmp);
        await this.place(tmp, join(this.root, p.rel));
        entries[p.rel] = p.identity;
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => {});
        this.log.warn({ err, repo: repo.name, path: p.rel }, 'static tree: a file could not be written; Wharf answers for it');
      }
    }
    // Kept in memory under the file's stamp; the full sync writes the manifest.
    this.manifests.set(repo.name, { stamp: cached.stamp, entries });
    return true;
  }

  /** What the tree should hold for a repository, by path relative to the root. */
  private plan(repo: Repository, entries: StaticEntry[], meta: Map<string, { etag: string; updatedAt: string; gzip: boolean }>): Map<string, Planned> {
    const out = new Map<string, Planned>();
    const compressed: Planned[] = [];
    const add = (p: Planned) => {
      if (safeRel(p.rel)) out.set(p.rel, p);
      else this.log.warn({ repo: repo.name, path: p.rel }, 'static tree: a path that would leave its directory is left to Wharf');
    };
    for (const e of entries) {
      const rel = e.variant !== undefined
        ? `${INTERNAL}/negotiated/${repo.name}/${e.path}index.${e.variant}`
        : `${repo.name}/${e.path}`;
      const src = e.source;
      if ('blob' in src) {
        add({ rel, identity: `b:${src.blob}`, phase: e.phase ?? 0, size: src.size, write: (tmp) => this.writeBlob(src.blob, tmp) });
        continue;
      }
      const m = meta.get(src.index);
      if (!m) continue;
      const mtime = new Date(m.updatedAt);
      add({ rel, identity: `i:${m.etag}${src.gunzip ? ':z' : ''}`, phase: e.phase ?? 1, write: (tmp) => this.writeIndex(repo.id, src.index, src.gunzip === true, 'body', tmp, mtime) });
      // A precompressed copy of a negotiated page for gzip_static (nginx) and precompressed
      // gzip (Caddy); only below -/, where no URL of Wharf's own is.
      if (m.gzip && !src.gunzip && e.variant !== undefined) {
        compressed.push({ rel: `${rel}.gz`, identity: `g:${m.etag}`, phase: e.phase ?? 1, write: (tmp) => this.writeIndex(repo.id, src.index, false, 'gzip', tmp, mtime) });
      }
    }
    // What the repository itself serves at a name wins over a precompressed copy.
    for (const p of compressed) if (!out.has(p.rel)) add(p);
    return out;
  }

  private async writeIndex(repoId: number, key: string, gunzip: boolean, part: 'body' | 'gzip', tmp: string, mtime: Date): Promise<void> {
    const row = await this.store.getIndex(repoId, key);
    if (!row) throw new Error(`index document ${key} is gone`);
    const bytes = part === 'gzip' ? row.gzip : gunzip ? gunzipSync(row.body) : row.body;
    if (!bytes) throw new Error(`index document ${key} has no gzip copy`);
    await writeFile(tmp, bytes, { mode: 0o644 });
    // Last-Modified as Wharf sends it: clients (pacman's curl, apt) ask If-Modified-Since.
    await utimes(tmp, mtime, mtime);
  }

  private async writeBlob(sha256: string, tmp: string): Promise<void> {
    const local = this.blobs.localPath(sha256);
    if (local && this.linkable) {
      try {
        // A hard link: no copy, and the bytes stay even after gc frees the blob, until the tree lets go.
        await link(local, tmp);
        return;
      } catch (err) {
        if (code(err) === 'ENOENT') throw err;
        this.linkable = false;
        this.log.warn({ err: (err as Error).message }, 'static tree: blobs cannot be hard-linked into the tree (another filesystem?): copying them instead');
      }
    }
    await pipeline(this.blobs.open(sha256), createWriteStream(tmp, { mode: 0o644 }));
  }

  /** Rename a written file into place, making way for it (a directory where a file goes, or a file where a directory goes). */
  private async place(tmp: string, dest: string): Promise<void> {
    await this.ensureDir(dirname(dest));
    try {
      await rename(tmp, dest);
    } catch (err) {
      if (!['EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes(code(err) ?? '')) throw err;
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      if (code(err) !== 'ENOTDIR' && code(err) !== 'EEXIST') throw err;
      // A file where a directory must go: it left the repository (or it would be in the way of nothing).
      const parts = dir.slice(this.root.length + 1).split('/');
      for (let i = 1; i <= parts.length; i++) {
        const p = join(this.root, ...parts.slice(0, i));
        const st = await lstat(p).catch(() => null);
        if (st && !st.isDirectory()) {
          await unlink(p);
          break;
        }
      }
      await mkdir(dir, { recursive: true, mode: 0o755 });
    }
  }

  /** Remove one file and the directories it leaves empty, up to the repository's own. */
  private async unlinkAndPrune(rel: string, repoName: string): Promise<boolean> {
    try {
      await unlink(join(this.root, rel));
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return false;
      // A directory by now: what the repository holds below it was just written there.
      if (code(err) === 'EISDIR' || code(err) === 'EPERM') return false;
      throw err;
    }
    const stops = new Set([repoName, `${INTERNAL}/negotiated/${repoName}`]);
    for (let d = dirname(rel); d !== '.' && !stops.has(d); d = dirname(d)) {
      try {
        await rmdir(join(this.root, d));
      } catch {
        break;
      }
    }
    return true;
  }

  /** Every file now in a repository's part of the tree, relative to the root. */
  private async scan(repoName: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const top of [repoName, `${INTERNAL}/negotiated/${repoName}`]) {
      const entries = await readdir(join(this.root, top), { recursive: true, withFileTypes: true }).catch((err) => {
        if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return [];
        throw err;
      });
      for (const e of entries) if (!e.isDirectory()) out.add(`${e.parentPath.slice(this.root.length + 1)}/${e.name}`);
    }
    return out;
  }

  private async readManifest(repoName: string): Promise<Record<string, string> | null> {
    const file = this.manifestPath(repoName);
    try {
      const st = await stat(file);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      const cached = this.manifests.get(repoName);
      if (cached?.stamp === stamp) return cached.entries;
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { entries?: Record<string, string> };
      if (!parsed.entries) return null;
      this.manifests.set(repoName, { stamp, entries: parsed.entries });
      return parsed.entries;
    } catch {
      this.manifests.delete(repoName);
      return null;
    }
  }

  private async writeManifest(repoName: string, entries: Record<string, string>): Promise<void> {
    const tmp = this.tmpPath();
    await writeFile(tmp, JSON.stringify({ entries }));
    await rename(tmp, this.manifestPath(repoName));
    // Renamed into place: the inode is the written file's, so the stamp names this version.
    const st = await stat(this.manifestPath(repoName));
    this.manifests.set(repoName, { stamp: `${st.ino}:${st.size}:${st.mtimeMs}`, entries });
  }

  /**
   * Take a repository out of the tree at once (made private, deleted): its directories are
   * renamed away in one step each, then deleted. Returns how many parts there were.
   */
  async removeRepo(repoName: string): Promise<number> {
    let removed = 0;
    this.manifests.delete(repoName);
    await rm(this.manifestPath(repoName), { force: true });
    for (const top of [repoName, `${INTERNAL}/negotiated/${repoName}`]) {
      const trash = this.tmpPath();
      try {
        await rename(join(this.root, top), trash);
      } catch (err) {
        if (code(err) === 'ENOENT') continue;
        throw err;
      }
      removed++;
      await rm(trash, { recursive: true, force: true });
    }
    return removed;
  }

  /** Repository names with a part in the tree (for removing those that left the database). */
  async repoNames(): Promise<string[]> {
    const names = new Set<string>();
    for (const d of await readdir(this.root, { withFileTypes: true })) if (d.name !== INTERNAL) names.add(d.name);
    for (const d of await readdir(join(this.root, INTERNAL, 'negotiated')).catch(() => [])) names.add(d);
    for (const f of await readdir(join(this.root, INTERNAL, 'state')).catch(() => [])) if (f.endsWith('.json')) names.add(f.slice(0, -5));
    return [...names];
  }
}
