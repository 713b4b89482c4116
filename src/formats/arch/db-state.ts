// What the published dbs of one repository are made of, kept in memory between publishes
// so that adding one package costs one small query and one recompressed bucket, not a
// rebuild of 10,000 entries. The database stays the source of truth: the state is loaded
// from it on first use, and the core's change feed names every file that changed since
// (whoever changed it), whose package names are read again before the next build.
// Reads of the database are awaited, so other requests run meanwhile: every use of the state
// (a build, a listing) runs under the state's own lock, reads the rows it needs first and
// changes memory after; the feed only notes changed paths (and key changes), never a view.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RepoChange } from '../../core/change-feed.ts';
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import { KeyedMutex } from '../../core/keyed-mutex.ts';
import type { FileRow } from '../../core/model.ts';
import { detachSign } from '../../core/signing.ts';
import { collect } from '../../lib/compression.ts';
import { assembleDb, bucketMember, bucketOf, type EntrySpan, readMembers, splitMember, tarEntry } from './db-buckets.ts';
import { dbEntryName } from './desc.ts';
import { archOptions } from './options.ts';
import { type DbKind, fileListPath, indexKey } from './paths.ts';
import { vercmp } from './vercmp.ts';

/** A stored package file, as far as the db needs it. */
export interface PkgFile {
  id: number;
  path: string;
  createdAt: string;
  pkgname: string;
  version: string;
  arch: string;
  held: boolean;
  /** Of the `desc` text, which is read from the database when the entry is written. */
  descHash: string;
}

/** 96 bits of the desc's SHA-256 (a string of its own: a slice of a longer one would keep it alive). */
const descHash = (desc: string) => createHash('sha256').update(desc).digest().toString('base64url', 0, 12);

/** A package file changed between the sync and the read of its desc: the build starts again. */
class StaleFacts extends Error {}

interface SigFact {
  source: 'server' | 'upload';
  /** Fingerprint of the trusted key the uploaded signature verified against. */
  signer: string | null;
}

interface PkgFacts {
  files: PkgFile[];
  /** Signatures by the path of the package they sign. */
  sigs: Map<string, SigFact>;
}

interface Bucket {
  names: Set<string>;
  /** The bucket's gzip member in each db, and what must be written again in it. */
  kinds: Record<DbKind, BucketMember>;
}

interface BucketMember {
  /** The last member built; undefined when there is none yet. */
  built?: { gz: Buffer; layout: readonly EntrySpan[] };
  /** Names whose listed file changed since: their entries are written again, the others reused as bytes. */
  stale: Set<string>;
  /** Whether the member must be built again (an entry changed, appeared or went away). */
  dirty: boolean;
}

interface ArchView {
  chosen: Map<string, PkgFile>;
  buckets: Map<number, Bucket>;
  /** Whether the published documents were read for members to reuse (after a start). */
  seeded: Partial<Record<DbKind, boolean>>;
  /** The last documents built, reused while nothing in this architecture changed. */
  docs: Partial<Record<DbKind, IndexDocument[]>>;
}

export class RepoDbState {
  /** Whether a first build reuses members of the published dbs (off in tests: a full rebuild). */
  private readonly reusePublished: boolean;
  private loaded = false;
  private readonly facts = new Map<string, PkgFacts>();
  /**
   * The package name of each known package file's path: a deleted file's name is found here (a
   * signature's or file list's by the package path it extends).
   */
  private readonly pathNames = new Map<string, string>();
  /** Files changed since the last build (from the change feed); their names are read again. */
  private readonly changedPaths = new Set<string>();
  private readonly views = new Map<string, ArchView>();
  private optionsKey = '';
  /** One build or listing at a time (the publisher already serialises builds; a listing may come any time). */
  private readonly lock = new KeyedMutex();
  /** Bumped when the signing keys change: a build under way then keeps its documents to itself. */
  private keysGeneration = 0;

  constructor(opts: { reusePublished?: boolean } = {}) {
    this.reusePublished = opts.reusePublished ?? true;
  }

  /** Called by the core with every change of the repository, before the state is used again. */
  applyChanges(changes: RepoChange[]): void {
    for (const c of changes) {
      if (c.kind === 'file') this.changedPaths.add(c.subject);
      // Documents signed with the old keys are not served again.
      else if (c.kind === 'keys') {
        this.keysGeneration++;
        for (const v of this.views.values()) v.docs = {};
      }
    }
  }

  /** Package files and signatures of the given rows, grouped by package name. */
  private readFacts(rows: FileRow[]): Map<string, PkgFacts> {
    const out = new Map<string, PkgFacts>();
    for (const r of rows) if (r.meta.kind === 'package' && typeof r.meta.pkgname === 'string') this.pathNames.set(r.path, r.meta.pkgname);
    const get = (name: string) => {
      let f = out.get(name);
      if (!f) out.set(name, (f = { files: [], sigs: new Map() }));
      return f;
    };
    for (const r of rows) {
      const m = r.meta;
      if (typeof m.pkgname !== 'string') continue;
      if (m.kind === 'package') {
        get(m.pkgname).files.push({
          id: r.id, path: r.path, createdAt: r.createdAt,
          pkgname: m.pkgname, version: String(m.pkgver), arch: String(m.arch), held: m.held === true, descHash: descHash(String(m.desc)),
        });
      } else if (m.kind === 'signature' && typeof m.of === 'string') {
        get(m.pkgname).sigs.set(m.of, { source: m.source === 'upload' ? 'upload' : 'server', signer: typeof m.signer === 'string' ? m.signer : null });
      }
    }
    return out;
  }

  /** Bring the facts and views up to date with the database. Only under the lock. */
  private async sync(ctx: RepoContext): Promise<void> {
    const names = new Set<string>();
    if (!this.loaded) {
      // Read after the feed was applied: every change so far is in these rows. Paths noted
      // while the read runs stay noted and are read again at the next sync.
      this.changedPaths.clear();
      this.facts.clear();
      this.pathNames.clear();
      this.views.clear();
      // A page at a time (in path order, so a package's files may span pages): the rows
      // themselves (descs, metadata) are never all in memory at once.
      try {
        for await (const page of ctx.store.eachFile(ctx.repo.id)) {
          for (const [name, f] of this.readFacts(page)) {
            const known = this.facts.get(name);
            if (!known) this.facts.set(name, f);
            else {
              known.files.push(...f.files);
              for (const [k, v] of f.sigs) known.sigs.set(k, v);
            }
          }
        }
      } catch (err) {
        this.facts.clear();
        this.pathNames.clear();
        throw err;
      }
      this.loaded = true;
    } else if (this.changedPaths.size) {
      const paths = [...this.changedPaths];
      this.changedPaths.clear();
      let fresh: { name: string; rows: FileRow[] }[];
      try {
        // A changed path's package: the one it belonged to, and the one its row names now.
        const rows = await Promise.all(paths.map((path) => ctx.store.getFileByPath(ctx.repo.id, path)));
        paths.forEach((path, i) => {
          const was = this.pathNames.get(path) ?? this.pathNames.get(packagePathOf(path));
          if (was !== undefined) names.add(was);
          const row = rows[i];
          if (row && typeof row.meta.pkgname === 'string') names.add(row.meta.pkgname);
        });
        fresh = await Promise.all([...names].map(async (name) => {
          const pkg = await ctx.store.getPackage(ctx.repo.id, name);
          return { name, rows: pkg ? await ctx.store.listFilesOfPackage(pkg.id) : [] };
        }));
        paths.forEach((path, i) => {
          const row = rows[i];
          if (!row || row.meta.kind !== 'package' || typeof row.meta.pkgname !== 'string') this.pathNames.delete(path);
        });
      } catch (err) {
        // Not read: noted again for the next sync.
        for (const path of paths) this.changedPaths.add(path);
        throw err;
      }
      for (const { name, rows } of fresh) {
        const f = this.readFacts(rows).get(name);
        if (f) this.facts.set(name, f);
        else this.facts.delete(name);
      }
    }
    const opts = archOptions(ctx.repo);
    const optionsKey = JSON.stringify([opts.requireSignedUploads]);
    const all = optionsKey !== this.optionsKey;
    this.optionsKey = optionsKey;
    for (const [arch, view] of this.views) {
      for (const name of all ? new Set([...this.facts.keys(), ...view.chosen.keys()]) : names) this.update(view, arch, name, opts.requireSignedUploads);
    }
  }

  private choose(name: string, arch: string, requireSigned: boolean): PkgFile | undefined {
    const f = this.facts.get(name);
    if (!f) return undefined;
    let best: PkgFile | undefined;
    for (const p of f.files) {
      if ((p.arch !== arch && p.arch !== 'any') || p.held) continue;
      if (requireSigned && !f.sigs.get(p.path)?.signer) continue;
      const c = best ? vercmp(p.version, best.version) : 1;
      if (c > 0 || (c === 0 && p.arch === arch && best!.arch === 'any')) best = p;
    }
    return best;
  }

  private update(view: ArchView, arch: string, name: string, requireSigned: boolean): void {
    const next = this.choose(name, arch, requireSigned);
    const prev = view.chosen.get(name);
    // The desc names the file's SHA-256 and size: other bytes under the same row give another hash.
    if (prev?.id === next?.id && prev?.descHash === next?.descHash && prev?.createdAt === next?.createdAt) return;
    const b = bucketOf(name);
    let bucket = view.buckets.get(b);
    if (!bucket) view.buckets.set(b, (bucket = { names: new Set(), kinds: { db: newMember(), files: newMember() } }));
    if (next) {
      view.chosen.set(name, next);
      bucket.names.add(name);
    } else {
      view.chosen.delete(name);
      bucket.names.delete(name);
    }
    for (const m of Object.values(bucket.kinds)) {
      m.stale.add(name);
      m.dirty = true;
    }
    view.docs = {};
  }

  private view(ctx: RepoContext, arch: string): ArchView {
    let view = this.views.get(arch);
    if (!view) {
      view = { chosen: new Map(), buckets: new Map(), docs: {}, seeded: {} };
      const requireSigned = archOptions(ctx.repo).requireSignedUploads;
      for (const name of this.facts.keys()) this.update(view, arch, name, requireSigned);
      this.views.set(arch, view);
    }
    return view;
  }

  /** The packages one architecture's db lists now, by name (a copy: later syncs do not change it). */
  listed(ctx: RepoContext, arch: string): Promise<Map<string, PkgFile>> {
    return this.lock.run('state', async () => {
      await this.sync(ctx);
      return new Map(this.view(ctx, arch).chosen);
    });
  }

  /**
   * After a start, the members of the published db whose entries are still exactly what a
   * build would write are taken as built, so the first build reads no file list of an
   * unchanged package. An entry counts as unchanged when its directory is a listed package's
   * and its `desc` is that package's (the desc names the package file by its SHA-256, and the
   * file list follows from the file).
   */
  private async seed(ctx: RepoContext, view: ArchView, arch: string, kind: DbKind): Promise<void> {
    const published = await ctx.services.getIndex(ctx.repo, indexKey(arch, kind));
    if (!published) return;
    const nameOfDir = new Map<string, string>();
    for (const [name, p] of view.chosen) nameOfDir.set(dbEntryName({ pkgname: p.pkgname, pkgver: p.version }), name);
    for (const { gz, entries } of readMembers(Buffer.from(published.body))) {
      const names = entries.map((e) => nameOfDir.get(e.dir));
      const buckets = new Set(names.filter((n) => n !== undefined).map((n) => bucketOf(n)));
      if (buckets.size !== 1) continue;
      const bucket = view.buckets.get([...buckets][0]);
      const m = bucket?.kinds[kind];
      if (!bucket || !m || m.built) continue;
      let reused = 0;
      const layout = entries.map((e, i) => {
        const name = names[i];
        const same = name !== undefined && bucket.names.has(name) && e.desc !== undefined && view.chosen.get(name)!.descHash === descHash(e.desc);
        if (same) reused++;
        // Entries that are no longer listed as they are get a name no package has: dropped.
        return { name: same ? name : `\0${i}`, length: e.length };
      });
      m.built = { gz: Buffer.from(gz), layout };
      m.stale.clear();
      m.dirty = reused !== entries.length || reused !== bucket.names.size;
    }
  }

  /** The `.db` or `.files` of one architecture with its signature. */
  async build(ctx: RepoContext, arch: string, kind: DbKind): Promise<IndexDocument[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.lock.run('state', () => this.buildLocked(ctx, arch, kind));
      } catch (err) {
        if (!(err instanceof StaleFacts) || attempt >= 5) throw err;
        // The change is in the feed by now: bring the state up to date and build again.
        await ctx.state.get('arch:db', () => this);
      }
    }
  }

  private async buildLocked(ctx: RepoContext, arch: string, kind: DbKind): Promise<IndexDocument[]> {
    await this.sync(ctx);
    const keysGeneration = this.keysGeneration;
    const view = this.view(ctx, arch);
    const built = view.docs[kind];
    if (built) return built;
    if (!view.seeded[kind] && this.reusePublished) {
      view.seeded[kind] = true;
      await this.seed(ctx, view, arch, kind);
    }
    const members: Buffer[] = [];
    for (const index of [...view.buckets.keys()].sort((a, b) => a - b)) {
      const bucket = view.buckets.get(index)!;
      if (bucket.names.size === 0) continue;
      const m = bucket.kinds[kind];
      if (!m.built || m.dirty) {
        const entries = [...bucket.names].map((name) => {
          const p = view.chosen.get(name)!;
          return { name, dir: dbEntryName({ pkgname: p.pkgname, pkgver: p.version }), p };
        }).sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
        // Entries of unchanged packages are taken from the last member as they are: only the
        // changed ones are written (and their file lists read), then the bucket is compressed.
        const reusable = m.built ? splitMember(m.built.gz, m.built.layout) : new Map<string, Buffer>();
        const written = entries.filter((e) => m.stale.has(e.name) || !reusable.has(e.name));
        const descs = await readDescs(ctx, written.map((e) => e.p));
        const tars = await Promise.all(entries.map(async (e) => {
          const kept = m.stale.has(e.name) ? undefined : reusable.get(e.name);
          if (kept) return kept;
          const desc = descs.get(e.p.path)!;
          return kind === 'db' ? tarEntry(e.dir, desc) : tarEntry(e.dir, desc, await readFileList(ctx, e.p));
        }));
        m.built = { gz: bucketMember(tars), layout: entries.map((e, i) => ({ name: e.name, length: tars[i].length })) };
        m.stale.clear();
        m.dirty = false;
      }
      members.push(m.built.gz);
    }
    const body = assembleDb(members);
    const sig = await detachSign(body, await ctx.services.keys.signingKeys(ctx.repo), { armor: false });
    const docs: IndexDocument[] = [
      { key: indexKey(arch, kind), contentType: 'application/octet-stream', body },
      { key: indexKey(arch, kind, true), contentType: 'application/pgp-signature', body: sig },
    ];
    // Kept for the next build only when no key change arrived meanwhile (it cleared the docs).
    if (this.keysGeneration === keysGeneration) view.docs[kind] = docs;
    return docs;
  }
}

/** Listed packages' descs by path, from their rows (checked to be the files the state knows). */
async function readDescs(ctx: RepoContext, files: readonly PkgFile[]): Promise<Map<string, string>> {
  if (files.length === 0) return new Map();
  const rows = new Map((await ctx.store.getFilesByPaths(ctx.repo.id, files.map((p) => p.path))).map((r) => [r.path, r]));
  const out = new Map<string, string>();
  for (const p of files) {
    const row = rows.get(p.path);
    const desc = row?.meta.desc;
    if (!row || row.id !== p.id || typeof desc !== 'string' || descHash(desc) !== p.descHash) throw new StaleFacts(p.path);
    out.set(p.path, desc);
  }
  return out;
}

/** The package file a signature or file list belongs to (`<package path>.sig`, `.files`). */
function packagePathOf(path: string): string {
  return path.replace(/\.(sig|files)$/, '');
}

async function readFileList(ctx: RepoContext, p: PkgFile): Promise<string> {
  const row = await ctx.store.getFileByPath(ctx.repo.id, fileListPath(p.path));
  if (!row) return '%FILES%\n';
  return (await collect(Readable.from(ctx.blobs.open(row.sha256)))).toString('utf8');
}

const newMember = (): BucketMember => ({ stale: new Set(), dirty: true });

/** The db state of a repository, held by the core (ctx.state). */
export function dbState(ctx: RepoContext): Promise<RepoDbState> {
  return ctx.state.get('arch:db', () => new RepoDbState());
}
