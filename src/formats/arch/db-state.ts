// What the published dbs of one repository are made of, kept in memory between publishes
// so that adding one package costs one small query and one recompressed bucket, not a
// rebuild of 10,000 entries. The database stays the source of truth: the state is loaded
// from it on the first publish after a start, and each package name that changes is read
// again from it (the format marks names as changed in `ingest` and `scopesForPackage`).
import { Readable } from 'node:stream';
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import type { FileRow, Repository } from '../../core/model.ts';
import { detachSign } from '../../core/signing.ts';
import { collect } from '../../lib/compression.ts';
import { assembleDb, bucketMember, bucketOf, tarEntry } from './db-buckets.ts';
import { dbEntryName } from './desc.ts';
import { archOptions } from './options.ts';
import { type DbKind, fileListPath, indexKey } from './paths.ts';
import { vercmp } from './vercmp.ts';

/** A stored package file, as far as the db needs it. */
export interface PkgFile {
  id: number;
  path: string;
  filename: string;
  sha256: string;
  createdAt: string;
  pkgname: string;
  version: string;
  arch: string;
  held: boolean;
  desc: string;
}

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
  /** Compressed members; undefined when the bucket changed and must be rebuilt. */
  db?: Buffer;
  files?: Buffer;
}

interface ArchView {
  chosen: Map<string, PkgFile>;
  buckets: Map<number, Bucket>;
  /** The last documents built, reused while nothing in this architecture changed. */
  docs: Partial<Record<DbKind, IndexDocument[]>>;
}

interface Pending {
  /** Paths and sha256 an accepted upload will store: the name stays changed until the database shows them. */
  expect: [string, string][];
  since: number;
}

/** An upload that never got stored (refused by the core) stops being re-read after this. */
const EXPECT_TTL_MS = 10 * 60_000;

export class RepoDbState {
  private readonly repoKey: string;
  private loaded = false;
  private readonly facts = new Map<string, PkgFacts>();
  private readonly changed = new Map<string, Pending | null>();
  private readonly views = new Map<string, ArchView>();
  private optionsKey = '';

  constructor(repo: Repository) {
    this.repoKey = `${repo.id}:${repo.createdAt}`;
  }

  belongsTo(repo: Repository): boolean {
    return this.repoKey === `${repo.id}:${repo.createdAt}`;
  }

  /** A package name whose files changed (or will, once `expect` is stored). */
  markChanged(name: string, expect?: [string, string][]): void {
    const prev = this.changed.get(name);
    if (expect) this.changed.set(name, { expect: [...(prev?.expect ?? []), ...expect], since: Date.now() });
    else if (prev === undefined) this.changed.set(name, null);
  }

  /** Forget built documents (after the signing keys changed). */
  dropDocuments(): void {
    for (const v of this.views.values()) v.docs = {};
  }

  /** Package files and signatures of the given rows, grouped by package name. */
  private readFacts(rows: FileRow[]): Map<string, PkgFacts> {
    const out = new Map<string, PkgFacts>();
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
          id: r.id, path: r.path, filename: r.filename, sha256: r.sha256, createdAt: r.createdAt,
          pkgname: m.pkgname, version: String(m.pkgver), arch: String(m.arch), held: m.held === true, desc: String(m.desc),
        });
      } else if (m.kind === 'signature' && typeof m.of === 'string') {
        get(m.pkgname).sigs.set(m.of, { source: m.source === 'upload' ? 'upload' : 'server', signer: typeof m.signer === 'string' ? m.signer : null });
      }
    }
    return out;
  }

  private sync(ctx: RepoContext): void {
    const names = new Set<string>();
    if (!this.loaded) {
      this.facts.clear();
      const rows = ctx.store.listFilesByPrefix(ctx.repo.id, '');
      for (const [name, f] of this.readFacts(rows)) this.facts.set(name, f);
      // An upload marks its name before its rows commit: a mark whose files this read did not
      // see must outlive the load, or that upload never reaches the db.
      const seen = new Set(rows.map((r) => `${r.path}\0${r.sha256}`));
      for (const [name, pending] of [...this.changed]) {
        if (this.settled(pending, (p, s) => seen.has(`${p}\0${s}`))) this.changed.delete(name);
      }
      this.views.clear();
      this.loaded = true;
    } else {
      for (const [name, pending] of [...this.changed]) {
        const pkg = ctx.store.getPackage(ctx.repo.id, name);
        const rows = pkg ? ctx.store.listFilesOfPackage(pkg.id) : [];
        const f = this.readFacts(rows).get(name);
        if (f) this.facts.set(name, f);
        else this.facts.delete(name);
        names.add(name);
        if (this.settled(pending, (p, s) => rows.some((r) => r.path === p && r.sha256 === s))) this.changed.delete(name);
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

  /** Whether a mark is done with: nothing expected, everything expected stored, or given up on. */
  private settled(pending: Pending | null, stored: (path: string, sha256: string) => boolean): boolean {
    return !pending || pending.expect.every(([p, s]) => stored(p, s)) || Date.now() - pending.since > EXPECT_TTL_MS;
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
    if (prev?.id === next?.id && prev?.sha256 === next?.sha256 && prev?.createdAt === next?.createdAt) return;
    const b = bucketOf(name);
    let bucket = view.buckets.get(b);
    if (!bucket) view.buckets.set(b, (bucket = { names: new Set() }));
    if (next) {
      view.chosen.set(name, next);
      bucket.names.add(name);
    } else {
      view.chosen.delete(name);
      bucket.names.delete(name);
    }
    bucket.db = bucket.files = undefined;
    view.docs = {};
  }

  private view(ctx: RepoContext, arch: string): ArchView {
    let view = this.views.get(arch);
    if (!view) {
      view = { chosen: new Map(), buckets: new Map(), docs: {} };
      const requireSigned = archOptions(ctx.repo).requireSignedUploads;
      for (const name of this.facts.keys()) this.update(view, arch, name, requireSigned);
      this.views.set(arch, view);
    }
    return view;
  }

  /** The packages one architecture's db lists now, by name. */
  listed(ctx: RepoContext, arch: string): Map<string, PkgFile> {
    this.sync(ctx);
    return this.view(ctx, arch).chosen;
  }

  /** The `.db` or `.files` of one architecture with its signature. */
  async build(ctx: RepoContext, arch: string, kind: DbKind): Promise<IndexDocument[]> {
    this.sync(ctx);
    const view = this.view(ctx, arch);
    const built = view.docs[kind];
    if (built) return built;
    const members: Buffer[] = [];
    for (const index of [...view.buckets.keys()].sort((a, b) => a - b)) {
      const bucket = view.buckets.get(index)!;
      if (bucket.names.size === 0) continue;
      let member = bucket[kind];
      if (!member) {
        const chosen = [...bucket.names].map((n) => view.chosen.get(n)!);
        const entries = chosen.map((p) => ({ dir: dbEntryName({ pkgname: p.pkgname, pkgver: p.version }), p }))
          .sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
        const tars = kind === 'db'
          ? entries.map((e) => tarEntry(e.dir, e.p.desc))
          : await Promise.all(entries.map(async (e) => tarEntry(e.dir, e.p.desc, await readFileList(ctx, e.p))));
        member = bucketMember(tars);
        bucket[kind] = member;
      }
      members.push(member);
    }
    const body = assembleDb(members);
    const sig = await detachSign(body, await ctx.services.keys.signingKeys(ctx.repo), { armor: false });
    const docs: IndexDocument[] = [
      { key: indexKey(arch, kind), contentType: 'application/octet-stream', body },
      { key: indexKey(arch, kind, true), contentType: 'application/pgp-signature', body: sig },
    ];
    view.docs[kind] = docs;
    return docs;
  }
}

async function readFileList(ctx: RepoContext, p: PkgFile): Promise<string> {
  const row = ctx.store.getFileByPath(ctx.repo.id, fileListPath(p.path));
  if (!row) return '%FILES%\n';
  return (await collect(Readable.from(ctx.blobs.open(row.sha256)))).toString('utf8');
}

const states = new Map<number, RepoDbState>();

/** The db state of a repository (one per process). */
export function dbState(repo: Repository): RepoDbState {
  let s = states.get(repo.id);
  if (!s || !s.belongsTo(repo)) states.set(repo.id, (s = new RepoDbState(repo)));
  return s;
}
