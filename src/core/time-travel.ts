// Time travel: a hosted repository answers, below `/<repo>/@<instant>/` or
// `/<repo>/@<snapshot>/`, what it held at that instant. The file set of the instant comes
// from the file history (db/history-store.ts, kept by triggers); the format's own index
// builders run on it through a store that answers as of the instant (AsOfStore), so the
// pages, Packages, dbs and listings are built by the same code as the live ones, and signed
// with the repository's current key. Built documents of a past instant never change: they
// are kept in a bounded memo. Semantics and retention: docs/decisions.md.
import { createHash } from 'node:crypto';
import { HistoryStore, type FileAsOf, type Snapshot } from '../db/history-store.ts';
import { Store, type FileWithVersion } from '../db/store.ts';
import { ChangeLog } from '../db/change-log.ts';
import { recordAudit } from './audit.ts';
import { BoundedCache } from './bounded-cache.ts';
import { badRequest, conflict, notFound, WharfError } from './errors.ts';
import type { CoreServices, FormatPlugin, IndexDocument, RepoContext } from './format-plugin.ts';
import type { FileRow, IndexRow, PackageRow, Repository, VersionRow } from './model.ts';

/** How long a deleted or replaced file's past state is kept, by default (repository option historyDays). */
export const DEFAULT_HISTORY_DAYS = 30;
/** An instant this recent may still gain rows from transactions under way: its indexes are not memoized. */
const SETTLED_MS = 60_000;
const DAY_MS = 86_400_000;
/** The instant a view of a repository's state before its first change reads (no row is older). */
const EMPTY_STATE = '1970-01-01T00:00:00.000Z';
/**
 * How many whole-scope as-of builds (a root page, a Release, a db) run at once; more wait
 * their turn, so many distinct past states asked at once do not starve live traffic.
 */
export const AS_OF_BUILDS_AT_ONCE = 2;

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export class Limiter {
  private readonly limit: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most that ran at once (for tests and metrics). */
  peak = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes to the next waiter as it is (running stays counted).
      if (next) next();
      else this.running--;
    }
  }
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const SNAPSHOT_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/**
 * An instant as the URL or the CLI spells it (`2026-06-01T00:00:00Z`, an offset, or a bare
 * date meaning its midnight UTC), as an ISO string in UTC with milliseconds; null when it is
 * not one. A time without a zone is refused: it would mean a different instant per server.
 */
export function parseInstant(text: string): string | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', sec = '0'] = m.slice(1, 7).map((v) => v);
  const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > days || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
  const ms = Date.parse(m[4] === undefined ? `${text}T00:00:00Z` : text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export function isValidSnapshotName(name: string): boolean {
  return SNAPSHOT_NAME.test(name);
}

/** The repository option `historyDays` (a whole number of days, 0 or more; default DEFAULT_HISTORY_DAYS). */
export function normalizeHistoryDays(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 36_500) throw badRequest('historyDays must be a whole number of days from 0 to 36500');
  return value;
}

export const historyDaysOf = (repo: Repository) => (typeof repo.options.historyDays === 'number' ? repo.options.historyDays : DEFAULT_HISTORY_DAYS);

/** A format's index building for a past instant (FormatPlugin.asOf). */
export interface AsOfIndexes {
  /** The scope whose build holds the document `key` (null: no such document). */
  scopeOfKey(key: string): string | null;
  /** Every document of `scope` at ctx's instant: ctx.store answers as of it (an AsOfStore). */
  buildScope(ctx: RepoContext, scope: string): Promise<IndexDocument[]>;
  /**
   * A group of hosted repositories of this format answers as of an instant too: its routes
   * build the group's answer from its members' rows (ctx.store) and documents
   * (services.getIndex) only, which then answer as of the instant.
   */
  groups?: boolean;
}

const etagOf = (body: Uint8Array) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

let viewCount = 0;

type PackageEntry = { row: PackageRow; files: FileAsOf[] };

/**
 * One repository at one instant: what was asked of it so far (a path, a package's files) and
 * the documents built. The whole file set is never held: a build that needs it (a Release, a
 * db, the root page) reads it for the build and keeps only the documents.
 */
export class AsOfView {
  readonly repoId: number;
  readonly at: string;
  private readonly history: HistoryStore;
  /** Scope → documents by key; a build under way is shared. */
  private readonly scopes = new Map<string, Promise<Map<string, IndexRow>>>();
  private readonly paths = new Map<string, Promise<FileAsOf | undefined>>();
  private readonly packages = new Map<string, Promise<PackageEntry | undefined>>();
  /** Package names by the ids this view gave them (negative: distinct from live ids and from other views'). */
  readonly packageNames = new Map<number, string>();
  private readonly packageIds = new Map<string, number>();
  private readonly idBase = -(++viewCount) * 1_000_000_000;
  /** Estimated bytes held (rows and documents). */
  bytes = 512;
  /** Told when the view grew (the memo counts it again). */
  onGrow: () => void = () => {};

  private readonly builds: Limiter;

  constructor(repoId: number, at: string, history: HistoryStore, builds = new Limiter(AS_OF_BUILDS_AT_ONCE)) {
    this.repoId = repoId;
    this.at = at;
    this.history = history;
    this.builds = builds;
  }

  private grow(files: readonly FileAsOf[]): void {
    // Estimated as the rows' text (metadata can be large: an APT stanza, a file list).
    for (const f of files) this.bytes += 256 + f.path.length * 2 + JSON.stringify(f.meta).length * 2;
    this.onGrow();
  }

  private memo<K, V>(map: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
    let p = map.get(key);
    if (!p) {
      p = load();
      // A failed read is tried again by the next request.
      p.catch(() => map.delete(key));
      map.set(key, p);
    }
    return p;
  }

  /** Every file of then (below `prefix`), read afresh: for builds, whose documents are kept instead. */
  files(prefix = ''): Promise<FileAsOf[]> {
    return this.history.filesAsOf(this.repoId, this.at, prefix ? { prefix } : {});
  }

  file(path: string): Promise<FileAsOf | undefined> {
    return this.memo(this.paths, path, async () => {
      const [f] = await this.history.filesAsOf(this.repoId, this.at, { path });
      if (f) this.grow([f]);
      return f;
    });
  }

  idOf(name: string): number {
    let id = this.packageIds.get(name);
    if (id === undefined) {
      id = this.idBase - this.packageIds.size - 1;
      this.packageIds.set(name, id);
      this.packageNames.set(id, name);
    }
    return id;
  }

  private entry(name: string, files: FileAsOf[]): PackageEntry | undefined {
    if (files.length === 0) return undefined;
    const first = files[0];
    return { row: { id: this.idOf(name), repoId: this.repoId, name, displayName: first.displayName ?? name, summary: '', meta: {}, createdAt: first.createdAt, updatedAt: first.createdAt }, files };
  }

  package(name: string): Promise<PackageEntry | undefined> {
    return this.memo(this.packages, name, async () => {
      const files = await this.history.filesAsOf(this.repoId, this.at, { package: name });
      this.grow(files);
      return this.entry(name, files);
    });
  }

  /** The packages of then, read afresh (a root page's build). */
  async allPackages(): Promise<PackageRow[]> {
    return (await this.history.packagesAsOf(this.repoId, this.at)).map((p) => ({
      id: this.idOf(p.name), repoId: this.repoId, name: p.name, displayName: p.displayName, summary: '', meta: {}, createdAt: p.createdAt, updatedAt: p.createdAt,
    }));
  }

  scope(scope: string, build: () => Promise<IndexDocument[]>): Promise<Map<string, IndexRow>> {
    return this.memo(this.scopes, scope, () => this.builds.run(build).then((docs) => {
      const rows = new Map(docs.map((d) => {
        const body = typeof d.body === 'string' ? Buffer.from(d.body) : d.body;
        this.bytes += body.length;
        return [d.key, { repoId: this.repoId, key: d.key, scope, contentType: d.contentType, body, gzip: null, etag: etagOf(body), updatedAt: this.at } satisfies IndexRow];
      }));
      this.onGrow();
      return rows;
    }));
  }
}

/** One repository's view in an AsOfStore, with its documents. */
export interface AsOfPart {
  view: AsOfView;
  getDoc(key: string): Promise<IndexRow | undefined>;
}

/**
 * The store as of an instant, for the reads index builders and route handlers make: the
 * files, packages and versions of the repositories it has views of (one, or a group's
 * members) come from those views; a package or version gone since gets an id of the view's
 * own (negative). Everything else (statuses, settings, keys, other repositories) is the live
 * store's.
 */
export class AsOfStore extends Store {
  private readonly parts: Map<number, AsOfPart>;
  private readonly at: string;

  constructor(live: Store, parts: readonly AsOfPart[]) {
    super(live.sql);
    this.parts = new Map(parts.map((p) => [p.view.repoId, p]));
    this.at = parts[0]?.view.at ?? new Date().toISOString();
  }

  private view(repoId: number): AsOfView | undefined {
    return this.parts.get(repoId)?.view;
  }
  /** The view and name of a package id of this store's. */
  private packageOf(packageId: number): { view: AsOfView; name: string } | undefined {
    for (const { view } of this.parts.values()) {
      const name = view.packageNames.get(packageId);
      if (name !== undefined) return { view, name };
    }
    return undefined;
  }
  private async filesOf(packageId: number): Promise<FileAsOf[]> {
    const p = this.packageOf(packageId);
    return p ? ((await p.view.package(p.name))?.files ?? []) : [];
  }

  override async getFileByPath(repoId: number, path: string): Promise<FileRow | undefined> {
    const view = this.view(repoId);
    return view ? view.file(path) : super.getFileByPath(repoId, path);
  }
  override async getFilesByPaths(repoId: number, paths: readonly string[]): Promise<FileRow[]> {
    const view = this.view(repoId);
    if (!view) return super.getFilesByPaths(repoId, paths);
    return (await Promise.all(paths.map((p) => view.file(p)))).filter((f): f is FileAsOf => f !== undefined);
  }
  override async listFilesByPrefix(repoId: number, prefix: string): Promise<FileRow[]> {
    const view = this.view(repoId);
    return view ? view.files(prefix) : super.listFilesByPrefix(repoId, prefix);
  }
  override async listDirectory(repoId: number, dir: string, limit = Infinity): Promise<{ files: FileRow[]; dirs: string[] }> {
    const view = this.view(repoId);
    if (!view) return super.listDirectory(repoId, dir, limit);
    const files: FileRow[] = [];
    const dirs = new Set<string>();
    for (const f of await view.files(dir)) {
      const slash = f.path.indexOf('/', dir.length);
      if (slash < 0) files.push(f);
      else dirs.add(f.path.slice(dir.length, slash));
      if (files.length + dirs.size >= limit) break;
    }
    return { files, dirs: [...dirs] };
  }
  override async getPackage(repoId: number, name: string): Promise<PackageRow | undefined> {
    const view = this.view(repoId);
    return view ? (await view.package(name))?.row : super.getPackage(repoId, name);
  }
  override async getPackageById(id: number): Promise<PackageRow | undefined> {
    const p = this.packageOf(id);
    return p && (await p.view.package(p.name))?.row;
  }
  override async listPackages(repoId: number): Promise<PackageRow[]> {
    const view = this.view(repoId);
    return view ? view.allPackages() : super.listPackages(repoId);
  }
  override async listFilesOfPackage(packageId: number): Promise<FileWithVersion[]> {
    return (await this.filesOf(packageId)).slice().sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  }
  override async listVersionNames(packageId: number): Promise<string[]> {
    return [...new Set((await this.filesOf(packageId)).map((f) => f.version).filter((v): v is string => v !== null))];
  }
  /** The versions listed then; metadata from the live version where it still exists (none otherwise). */
  override async listVersionsBrief(packageId: number): Promise<VersionRow[]> {
    const p = this.packageOf(packageId);
    if (!p) return [];
    const live = await super.getPackage(p.view.repoId, p.name);
    const liveVersions = new Map((live ? await super.listVersionsBrief(live.id) : []).map((v) => [v.version, v]));
    let next = -1;
    return (await this.listVersionNames(packageId)).map((version) => liveVersions.get(version) ?? { id: next--, packageId, version, meta: {}, createdAt: this.at });
  }
  override async versionDescription(versionId: number): Promise<string | null> {
    return versionId < 0 ? null : super.versionDescription(versionId);
  }
  /** A live version's files as they were (a version gone since has an id of the view's own, and no files by id). */
  override async listFilesOfVersion(versionId: number): Promise<FileRow[]> {
    const version = versionId < 0 ? undefined : await super.getVersionById(versionId);
    const pkg = version && (await super.getPackageById(version.packageId));
    const part = pkg && this.parts.get(pkg.repoId);
    if (!part) return [];
    return ((await part.view.package(pkg.name))?.files ?? []).filter((f) => f.version === version.version).sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  }
  override async getIndex(repoId: number, key: string): Promise<IndexRow | undefined> {
    const part = this.parts.get(repoId);
    return part ? part.getDoc(key) : super.getIndex(repoId, key);
  }
  /** Nothing is ever out of date in the past. */
  override async isDirty(): Promise<boolean> {
    return false;
  }
}

/** What time travel asks of the core. */
export interface TimeTravelDeps {
  pluginFor(repo: Repository): FormatPlugin;
  /** A group's members, readable by the asker or not (the group's routes filter them). */
  allMembers(group: Repository): Repository[];
  /** Every repository. */
  repos(): Repository[];
}

/** Where a `@<ref>` points: an instant, and the snapshot that named it. */
export interface ResolvedRef {
  at: string;
  snapshot?: string;
}

export class TimeTravel {
  readonly history: HistoryStore;
  private readonly store: Store;
  private readonly views = new BoundedCache<AsOfView>({ maxEntries: 32, maxBytes: 256 * 1024 * 1024 });
  /** Whole-scope as-of builds under way, bounded across every view. */
  readonly builds = new Limiter(AS_OF_BUILDS_AT_ONCE);

  private readonly deps: TimeTravelDeps;

  constructor(store: Store, deps: TimeTravelDeps) {
    this.store = store;
    this.deps = deps;
    this.history = new HistoryStore(store.sql);
  }

  /** The earliest instant whose file set the history still holds in full. */
  earliest(repo: Repository, now = Date.now()): string {
    const kept = new Date(now - historyDaysOf(repo) * DAY_MS).toISOString();
    return kept > repo.createdAt ? kept : repo.createdAt;
  }

  /**
   * The repositories whose history answers for `repo`: itself when hosted; a group's members
   * when every one is hosted and its format builds a group's answer from its members' store
   * and documents (AsOfIndexes.groups). Anything else is refused: a proxy's cache is no
   * record of what its upstream held.
   */
  sources(repo: Repository): Repository[] {
    if (repo.kind === 'hosted') return [repo];
    const why = `time travel and snapshots serve hosted repositories${repo.kind === 'group' ? ', and groups of them (PyPI, files)' : ''} (docs/time-travel.md)`;
    if (repo.kind !== 'group' || !this.deps.pluginFor(repo).asOf?.groups) throw badRequest(`${repo.name} is a ${repo.kind} repository: ${why}`);
    const members = this.deps.allMembers(repo);
    const other = members.find((m) => m.kind !== 'hosted');
    if (other) throw badRequest(`${repo.name} has the ${other.kind} member ${other.name}: ${why}`);
    return members;
  }

  /** Check that `at` is an instant this repository (each of its sources) can answer for. */
  private checkInstant(repo: Repository, at: string, text: string): void {
    if (Date.parse(at) > Date.now()) throw badRequest(`${text} is in the future`);
    if (at < repo.createdAt) throw notFound(`${repo.name} did not exist at ${text} (created ${repo.createdAt})`);
    for (const r of this.sources(repo)) {
      const earliest = this.earliest(r);
      if (at < earliest) {
        throw new WharfError('GONE', `${r.name} keeps its history for ${historyDaysOf(r)} days (historyDays): the earliest instant it answers for is ${earliest}; named snapshots are kept until deleted`);
      }
    }
  }

  /** Whether `name` is a snapshot of `repo` (false where the repository has no time travel). */
  async isSnapshot(repo: Repository, name: string): Promise<boolean> {
    if (!isValidSnapshotName(name)) return false;
    try {
      this.sources(repo);
    } catch {
      return false;
    }
    return (await this.history.getSnapshot(repo.id, name)) !== undefined;
  }

  /** `@<ref>`: an instant, or a snapshot's name. */
  async resolve(repo: Repository, ref: string): Promise<ResolvedRef> {
    this.sources(repo);
    const at = parseInstant(ref);
    if (at) {
      this.checkInstant(repo, at, ref);
      return { at };
    }
    if (!isValidSnapshotName(ref)) throw badRequest(`@${ref} is neither an instant (2026-06-01T00:00:00Z) nor a snapshot name`);
    const s = await this.history.getSnapshot(repo.id, ref);
    if (!s) throw notFound(`${repo.name} has no snapshot ${ref}`);
    return { at: s.at, snapshot: s.name };
  }

  /**
   * What `repo` held at `at`, as far as asked: memoized once the instant is settled, under the
   * state it names (the last change at or before it), so distinct instants between the same
   * two changes share one view and its builds.
   */
  async view(repo: Repository, at: string): Promise<AsOfView> {
    // An instant this recent may still gain rows: its own view, not memoized.
    if (Date.now() - Date.parse(at) <= SETTLED_MS) return new AsOfView(repo.id, at, this.history, this.builds);
    // No change yet: the empty state (queried at an instant before any row).
    const state = (await this.history.lastChangeAt(repo.id, at)) ?? EMPTY_STATE;
    const key = `${repo.id}@${state}`;
    const cached = this.views.get(key);
    if (cached) return cached;
    const view = new AsOfView(repo.id, state, this.history, this.builds);
    // Counted again as it grows (and may let older states go).
    view.onGrow = () => {
      if (this.views.get(key) === view) this.views.set(key, view, view.bytes);
    };
    this.views.set(key, view, view.bytes);
    return view;
  }

  /**
   * A context for `base.repo` whose store and documents answer as of `at` for it (or for its
   * members, a group's), built by each repository's own format; publishing does nothing.
   */
  async contextAt<C extends RepoContext>(base: C, at: string): Promise<C> {
    const sources = this.sources(base.repo);
    const parts: AsOfPart[] = [];
    const byRepo = new Map<number, AsOfPart>();
    for (const r of sources) {
      const view = await this.view(r, at);
      const asOf = this.deps.pluginFor(r).asOf;
      const part: AsOfPart = {
        view,
        getDoc: async (key) => {
          const scope = asOf?.scopeOfKey(key);
          if (!asOf || !scope) return undefined;
          // Built in the repository's own name (a group asks in its members').
          const docs = await view.scope(scope, () => asOf.buildScope(r.id === base.repo.id ? ctx : { ...ctx, repo: r, state: base.services.stateOf(r) }, scope));
          return docs.get(key);
        },
      };
      parts.push(part);
      byRepo.set(r.id, part);
    }
    const store = new AsOfStore(base.store, parts);
    const services: CoreServices = {
      ...base.services,
      getIndex: (r, key) => byRepo.get(r.id)?.getDoc(key) ?? base.services.getIndex(r, key),
      publish: async () => {},
    };
    const ctx: C = { ...base, store, services, asOf: at };
    return ctx;
  }

  // --- snapshots
  async listSnapshots(repo: Repository): Promise<Snapshot[]> {
    this.sources(repo);
    return this.history.listSnapshots(repo.id);
  }

  /** A snapshot of `repo` at `at` (default: now). `createdBy`: who asks. */
  async createSnapshot(repo: Repository, name: string, at: string | undefined, createdBy: string | null): Promise<Snapshot> {
    this.sources(repo);
    if (!isValidSnapshotName(name)) throw badRequest(`invalid snapshot name ${JSON.stringify(name)}: a letter, then letters, digits, '.', '_' or '-' (at most 64)`);
    let instant = new Date().toISOString();
    if (at !== undefined) {
      const parsed = parseInstant(at);
      if (!parsed) throw badRequest(`invalid instant ${JSON.stringify(at)}: use e.g. 2026-06-01T00:00:00Z`);
      this.checkInstant(repo, parsed, at);
      instant = parsed;
    }
    const created = await this.store.transaction(async () => {
      if (!(await this.history.createSnapshot(repo.id, { name, at: instant, createdBy }))) return false;
      await recordAudit(this.store.sql, { repo: repo.name, action: 'snapshot-create', target: name, detail: { at: instant } });
      return true;
    });
    if (!created) throw conflict(`${repo.name} has a snapshot named ${name} already`);
    return (await this.history.getSnapshot(repo.id, name))!;
  }

  async deleteSnapshot(repo: Repository, name: string): Promise<void> {
    this.sources(repo);
    const s = await this.history.getSnapshot(repo.id, name);
    const deleted = await this.store.transaction(async () => {
      if (!(await this.history.deleteSnapshot(repo.id, name))) return false;
      await recordAudit(this.store.sql, { repo: repo.name, action: 'snapshot-delete', target: name, detail: { at: s?.at ?? null } });
      return true;
    });
    if (!deleted) throw notFound(`${repo.name} has no snapshot ${name}`);
  }

  /**
   * Forget a deleted file at once, from every instant and snapshot (a leaked secret): its
   * history rows are dropped and the memoized views let go; gc then frees its bytes when
   * nothing else names them. A file still listed must be deleted first (its indexes are the
   * format's). The change feed tells every process (replicas included) to let go of its
   * views of the repository and its cached answers.
   */
  async purge(repo: Repository, path: string): Promise<number> {
    this.sources(repo);
    if (repo.kind !== 'hosted') throw badRequest(`${repo.name} is a group: purge the path in the member that held it`);
    if (await this.store.getFileByPath(repo.id, path)) throw conflict(`${repo.name} lists ${path} now: delete it first, then purge its history`);
    const rows = await this.store.transaction(async () => {
      const n = await this.history.purgePath(repo.id, path);
      await new ChangeLog(this.store.sql).note(repo.id, 'history', path);
      await recordAudit(this.store.sql, { repo: repo.name, action: 'history-purge', target: path, detail: { rows: n } });
      return n;
    });
    this.forget(repo.id);
    return rows;
  }

  /** Let go of the memoized views of a repository (its history changed: a purge, here or on another process), or of every one. */
  forget(repoId?: number): void {
    if (repoId === undefined) this.views.clear();
    else this.views.deleteWhere((key) => key.startsWith(`${repoId}@`));
  }

  /**
   * Drop the history each hosted repository no longer keeps (run before gc looks for
   * unreferenced blobs). A snapshot of a group keeps what it lists in the group's members.
   */
  async prune(now = Date.now()): Promise<number> {
    let rows = 0;
    for (const { repo, before, groups } of this.pruneTargets(now)) rows += await this.history.prune(repo.id, before, groups);
    return rows;
  }

  /**
   * For a dry run of gc: the blobs pruning would leave unreferenced, found by pruning in a
   * transaction that is rolled back (nothing changes).
   */
  async blobsPruningFrees(now = Date.now()): Promise<string[]> {
    return this.store.sql.transaction(async () => {
      const candidates = new Set<string>();
      for (const { repo, before, groups } of this.pruneTargets(now)) {
        for (const sha of await this.history.prunableBlobs(repo.id, before, groups)) candidates.add(sha);
      }
      await this.prune(now);
      const freed: string[] = [];
      for (const sha of candidates) if (!(await this.store.isBlobReferenced(sha))) freed.push(sha);
      return freed;
    }, { rollback: true });
  }

  private pruneTargets(now: number): { repo: Repository; before: string; groups: number[] }[] {
    const repos = this.deps.repos();
    return repos.filter((r) => r.kind === 'hosted').map((repo) => ({
      repo,
      before: new Date(now - historyDaysOf(repo) * DAY_MS).toISOString(),
      groups: repos.filter((g) => g.kind === 'group' && this.deps.allMembers(g).some((m) => m.id === repo.id)).map((g) => g.id),
    }));
  }
}
