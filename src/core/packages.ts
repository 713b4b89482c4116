// Hosted repository writes, the same for every format: record what a format's ingest
// planned (blobs committed first, then rows in one transaction), and delete files, versions
// and packages; then publish the affected index scopes.
import type { Store } from '../db/store.ts';
import type { BlobStore, StagedBlob } from '../storage/blob-store.ts';
import { conflict, notFound, WharfError } from './errors.ts';
import type { Arrival, DeleteOptions, FormatPlugin, IngestPlan, IngestResult, RepoContext, UploadInput } from './format-plugin.ts';
import type { FileRow, Repository } from './model.ts';
import { recordAudit } from './audit.ts';

export interface PackageServiceDeps {
  store: Store;
  blobs: BlobStore;
  contextFor(repo: Repository): RepoContext;
  pluginFor(repo: Repository): FormatPlugin;
  /** `burst`: the change is durable and its scopes dirty; during a burst it may be published a moment later (Publisher). */
  publish(repo: Repository, scopes: string[], opts?: { burst?: boolean }): Promise<void>;
}

/** A summary as lists show it: one line, bounded. */
function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 512 ? `${line.slice(0, 511)}…` : line;
}

export const NOT_COUNTED: Arrival = { repoId: 0, arrived: () => {}, published: () => {}, leave: async () => {} };

export class PackageService {
  private readonly deps: PackageServiceDeps;
  /**
   * Uploads per repository received (from their request, when the route counts them with
   * `arrive`) and not yet committed (or refused). An upload that commits
   * while others are still coming is part of a burst: it is answered once durable and published
   * with them; the last of a burst to commit finds none coming and waits for the publish,
   * which includes every change committed before it.
   */
  private readonly coming = new Map<number, number>();

  constructor(deps: PackageServiceDeps) {
    this.deps = deps;
  }

  /**
   * Count an upload to `repo` as coming from now: a route calls it when the request arrives,
   * before the body is staged, so an upload that commits while another is still being received
   * is part of a burst rather than taken for the last one (which waits for a publish).
   * Its `leave` must be awaited once the upload is answered or refused.
   */
  arrive(repo: Repository): Arrival {
    this.coming.set(repo.id, (this.coming.get(repo.id) ?? 0) + 1);
    let counted = true;
    let last = false;
    let published = false;
    let gone = false;
    const arrived = () => {
      if (!counted) return;
      counted = false;
      const left = this.coming.get(repo.id)! - 1;
      if (left > 0) this.coming.set(repo.id, left);
      else this.coming.delete(repo.id);
      last = left === 0;
    };
    return {
      repoId: repo.id,
      arrived,
      published: () => {
        published = true;
      },
      leave: async () => {
        if (gone) return;
        gone = true;
        arrived();
        // The last upload of a burst that published nothing itself (refused, already stored,
        // or its client went away) still publishes what the burst deferred, before its answer.
        if (last && !published) await this.deps.publish(repo, []).catch(() => {});
      },
    };
  }

  async ingest(repo: Repository, upload: UploadInput, arrival: Arrival = this.arrive(repo)): Promise<IngestResult> {
    try {
      return await this.ingestOne(repo, upload, arrival);
    } finally {
      await arrival.leave();
    }
  }

  private async ingestOne(repo: Repository, upload: UploadInput, arrival: Arrival): Promise<IngestResult> {
    const plugin = this.deps.pluginFor(repo);
    const ctx = this.deps.contextFor(repo);
    let plan: IngestPlan;
    try {
      plan = withUploadTime(await plugin.ingest(ctx, upload), upload);
    } catch (err) {
      await this.deps.blobs.discard(upload.staged);
      throw err;
    }
    try {
      return await this.record(repo, plugin, plan, upload.uploader ?? null, arrival);
    } finally {
      for (const f of plan.files) await this.deps.blobs.discard(f.blob);
      await this.deps.blobs.discard(upload.staged);
    }
  }

  /** Record a plan made elsewhere (e.g. a proxy caching upstream content); its blobs are committed or discarded. */
  async recordPlan(repo: Repository, plan: IngestPlan): Promise<IngestResult> {
    try {
      return await this.record(repo, this.deps.pluginFor(repo), plan, null);
    } finally {
      for (const f of plan.files) await this.deps.blobs.discard(f.blob);
    }
  }

  private async record(repo: Repository, plugin: FormatPlugin, plan: IngestPlan, uploader: string | null, arrival: Arrival = NOT_COUNTED): Promise<IngestResult> {
    const { store, blobs } = this.deps;
    // A first look, so an obvious duplicate or conflict commits no blob. It decides nothing:
    // another upload of the same name may commit meanwhile, so the decision is taken again
    // inside the transaction that writes (Gitea's TryInsertFile).
    const early = await this.compare(repo, plan);
    if (early instanceof WharfError) throw early;
    const merges = plan.files.some((f) => f.mergeMeta);
    if (early.identical && !merges) return this.exists(repo, plan, early.existing as FileRow[]);
    // Pinned in the database before the bytes are stored and until the rows naming them
    // commit: gc on any process leaves them alone meanwhile (docs/scale-out.md).
    const pins = await pinForCommit(store, plan.files.map((f) => f.blob.sha256));
    let recorded = false;
    try {
      for (const f of plan.files) await blobs.commit(f.blob);
      const result = await this.recordRows(repo, plugin, plan, uploader, pins, arrival);
      recorded = true;
      return result;
    } finally {
      // The rows' transaction drops the pins when it commits; after a failure, drop them here.
      if (!recorded) await store.unpinBlobs(pins);
    }
  }

  private async recordRows(repo: Repository, plugin: FormatPlugin, plan: IngestPlan, uploader: string | null, pins: string[], arrival: Arrival): Promise<IngestResult> {
    const { store } = this.deps;
    // Only the database is awaited in here (the plan's callbacks included): every other
    // database call of the process waits for this commit.
    const outcome = await store.transaction(async () => {
      const written = await this.writePlan(repo, plugin, plan, uploader);
      // Gone with this commit, whatever was decided: from then on the rows protect the blobs.
      await store.unpinBlobs(pins);
      return written;
    });
    arrival.arrived();
    if (outcome instanceof WharfError) throw outcome;
    if (outcome.status === 'exists') return this.exists(repo, plan, outcome.files);
    // Alone (or last of a burst), an upload is answered once it is published; while others
    // are still coming, once it is durable: they publish it.
    const burst = this.coming.has(repo.id);
    await this.deps.publish(repo, outcome.scopes, { burst });
    if (!burst) arrival.published();
    return { status: outcome.status, files: outcome.files };
  }

  /**
   * Write one accepted file's rows (a plan), in the caller's transaction: the one place an
   * upload is recorded, alone or in a batch. Refusals are returned, not thrown, so that the
   * transaction still commits its blob rows (and a batch's other files).
   */
  private async writePlan(repo: Repository, plugin: FormatPlugin, plan: IngestPlan, uploader: string | null): Promise<WharfError | { status: IngestResult['status']; files: FileRow[]; scopes: string[] }> {
    const { store } = this.deps;
    // Blob rows first, whatever is decided: a committed blob no file ends up naming is then
    // known to the database, and gc frees it.
    for (const f of plan.files) await store.insertBlob(f.blob.sha256, f.blob.size);
    const now = await this.compare(repo, plan);
    if (now instanceof WharfError) return now;
    if (now.identical) return { status: 'exists', files: await this.merge(repo, plan, now.existing as FileRow[]), scopes: [] };
    const refused = await plan.conflictInTransaction?.();
    if (refused) return refused;
    // Judged before this plan's rows exist (e.g. which directories a new file creates).
    const planScopes = (await plan.scopesInTransaction?.()) ?? plan.scopes;
    let packageCreated = false;
    let versionId: number | null = null;
    if (plan.package) {
      const { compareVersions: order, version } = plan.package;
      const stored = await store.getPackage(repo.id, plan.package.name);
      packageCreated = !stored;
      const newest = !order || !stored || (await store.listVersionNames(stored.id)).every((v) => order(version, v) >= 0);
      const packageId = await store.upsertPackage(repo.id, plan.package.name, plan.package.displayName);
      versionId = await store.upsertVersion(packageId, version, plan.package.versionMeta);
      await store.updateVersionMeta(versionId, plan.package.versionMeta);
      if (newest && plan.package.packageMeta) await store.updatePackageMeta(packageId, plan.package.packageMeta);
      if (newest && plan.package.summary !== undefined) await store.setPackageSummary(packageId, oneLine(plan.package.summary));
    }
    const rows: FileRow[] = [];
    for (const [i, f] of plan.files.entries()) {
      const old = now.existing[i];
      if (old && now.kept[i]) {
        rows.push(old);
      } else if (old) {
        await store.replaceFileContent(old.id, { sha256: f.blob.sha256, size: f.blob.size, meta: f.meta, uploadedBy: uploader, createdAt: plan.uploadedAt });
        rows.push((await store.getFileById(old.id))!);
      } else {
        rows.push(await store.insertFile({ repoId: repo.id, versionId, path: f.path, filename: f.filename, sha256: f.blob.sha256, size: f.blob.size, meta: f.meta, uploadedBy: uploader, createdAt: plan.uploadedAt }));
      }
    }
    // Proxies cache content; only hosted repositories publish indexes of their own.
    if (repo.kind !== 'hosted') packageCreated = false;
    const scopes = [...planScopes, ...(packageCreated ? plugin.scopesForPackageSet ?? [] : [])];
    // In the same transaction as the rows: a crash before the publish leaves the scopes dirty.
    for (const s of scopes) await store.markDirty(repo.id, s);
    // Uploads to hosted repositories are audited; a proxy's cached copies are not changes anyone made.
    if (repo.kind === 'hosted') await recordAudit(store.sql, uploadEntry(repo, plan, rows, now.existing));
    return { status: 'created', files: rows, scopes };
  }

  /** Drop a staged blob not (or no longer) needed: a batch's entry once recorded or refused. */
  discard(staged: StagedBlob): Promise<void> {
    return this.deps.blobs.discard(staged);
  }

  /** Publish: `burst`, a moment later (with a burst's bound); else now, waiting for it, with what bursts deferred too. */
  publishScopes(repo: Repository, scopes: string[], opts: { burst?: boolean } = {}): Promise<void> {
    return this.deps.publish(repo, scopes, opts);
  }

  /** A format's checks and plan for one upload (a batch's entry); the caller discards its blobs. */
  async plan(repo: Repository, upload: UploadInput): Promise<IngestPlan> {
    return withUploadTime(await this.deps.pluginFor(repo).ingest(this.deps.contextFor(repo), upload), upload);
  }

  /**
   * Record several plans (a batch's chunk) as their uploads one after another would be, with
   * one pin transaction, their blobs committed together and one transaction for all their rows.
   * Each plan's outcome is returned in its place: a refusal does not refuse the others. The
   * changed scopes are marked dirty with the rows and added to `scopes`: the caller publishes
   * them (a batch: now and then, and at its end). The caller discards the plans' blobs.
   */
  async recordMany(repo: Repository, items: { plan: IngestPlan; uploader: string | null }[], scopes: Set<string>): Promise<(IngestResult | WharfError)[]> {
    const { store, blobs } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const out: (IngestResult | WharfError)[] = new Array(items.length);
    const todo: number[] = [];
    for (const [i, { plan }] of items.entries()) {
      const early = await this.compare(repo, plan);
      if (early instanceof WharfError) out[i] = early;
      else if (early.identical && !plan.files.some((f) => f.mergeMeta)) out[i] = await this.exists(repo, plan, early.existing as FileRow[]);
      else todo.push(i);
    }
    if (!todo.length) return out;
    const pins = await pinForCommit(store, todo.flatMap((i) => items[i].plan.files.map((f) => f.blob.sha256)));
    let outcomes: Awaited<ReturnType<PackageService['writePlan']>>[];
    try {
      // Placed side by side: their fsyncs overlap in the thread pool instead of queueing.
      await eachAtOnce(todo.flatMap((i) => items[i].plan.files.map((f) => f.blob)), 16, (b) => blobs.commit(b));
      outcomes = await store.transaction(async () => {
        const written = [];
        for (const i of todo) written.push(await this.writePlan(repo, plugin, items[i].plan, items[i].uploader));
        await store.unpinBlobs(pins);
        return written;
      });
    } catch (err) {
      await store.unpinBlobs(pins);
      if (todo.length === 1) throw err;
      // One plan broke the shared transaction (a 5xx): each again on its own, so only it fails.
      for (const i of todo) out[i] = await this.record(repo, plugin, items[i].plan, items[i].uploader).catch((e: unknown) => { if (e instanceof WharfError) return e; throw e; });
      return out;
    }
    for (const [k, i] of todo.entries()) {
      const o = outcomes[k];
      if (o instanceof WharfError) out[i] = o;
      else if (o.status === 'exists') out[i] = await this.exists(repo, items[i].plan, o.files);
      else {
        out[i] = { status: o.status, files: o.files };
        for (const s of o.scopes) scopes.add(s);
      }
    }
    return out;
  }

  /** Identical files already stored: apply the plan's meta merges (in the caller's transaction). */
  private async merge(repo: Repository, plan: IngestPlan, stored: FileRow[]): Promise<FileRow[]> {
    const { store } = this.deps;
    let changed = false;
    const rows: FileRow[] = [];
    for (const [i, row] of stored.entries()) {
      const meta = await plan.files[i].mergeMeta?.(row);
      if (!meta || JSON.stringify(meta) === JSON.stringify(row.meta)) {
        rows.push(row);
        continue;
      }
      await store.updateFileMeta(row.id, meta);
      changed = true;
      rows.push((await store.getFileById(row.id))!);
    }
    if (changed) {
      for (const s of plan.scopes) await store.markDirty(repo.id, s);
      // The same bytes with new metadata (an APT package uploaded into one more suite) is a change too.
      if (repo.kind === 'hosted') {
        const entry = uploadEntry(repo, plan, rows, stored);
        await recordAudit(store.sql, { ...entry, detail: { ...entry.detail, merged: true } });
      }
    }
    return rows;
  }

  /**
   * The stored files at the plan's paths, and whether the plan repeats them byte for byte.
   * Different bytes under a stored name are a conflict (returned, not thrown, so that the
   * transaction deciding it still commits its blob rows) unless the repository allows
   * overwriting or the plan says the stored file may be replaced. Awaits only the database
   * (and the plan's callbacks, which do the same): it runs inside the writing transaction.
   */
  private async compare(repo: Repository, plan: IngestPlan): Promise<{ existing: (FileRow | undefined)[]; kept: boolean[]; identical: boolean } | WharfError> {
    const { store } = this.deps;
    const allowOverwrite = repo.options.allowOverwrite === true;
    const existing: (FileRow | undefined)[] = [];
    for (const f of plan.files) existing.push(await store.getFileByPath(repo.id, f.path));
    // A stored file the plan defers to counts as the plan's own.
    const kept: boolean[] = [];
    for (const [i, f] of plan.files.entries()) {
      const old = existing[i];
      kept.push(old !== undefined && old.sha256 !== f.blob.sha256 && (await f.keepsStored?.(old)) === true);
    }
    for (const [i, f] of plan.files.entries()) {
      const old = existing[i];
      if (old && old.sha256 !== f.blob.sha256 && !kept[i] && !allowOverwrite && !(await f.replaces?.(old))) {
        return conflict(`${f.filename} already exists with different content; delete it first or enable overwrite`);
      }
    }
    return { existing, kept, identical: existing.every((old, i) => old && (kept[i] || old.sha256 === plan.files[i].blob.sha256)) };
  }

  /**
   * An identical re-upload. It answers like the first upload only once the files are in the
   * published indexes: the first attempt may have been cut off (or the server killed) before
   * its publish finished, and a retry must not be acknowledged ahead of it.
   */
  private async exists(repo: Repository, plan: IngestPlan, files: FileRow[]): Promise<IngestResult> {
    if (repo.kind === 'hosted') {
      const dirty: string[] = [];
      for (const s of plan.scopes) if (await this.deps.store.isDirty(repo.id, s)) dirty.push(s);
      if (dirty.length) await this.deps.publish(repo, dirty);
    }
    return { status: 'exists', files };
  }

  /** Delete one file (and its companions); empty versions and packages go with it. */
  async deleteFile(repo: Repository, path: string, opts: DeleteOptions = {}): Promise<string[]> {
    const { store } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const file = await store.getFileByPath(repo.id, path);
    if (!file) throw notFound(`no file ${path} in ${repo.name}`);
    const companions: FileRow[] = [];
    for (const p of plugin.companionPaths?.(file) ?? []) {
      const f = await store.getFileByPath(repo.id, p);
      if (f) companions.push(f);
    }
    const scopes = new Set<string>();
    await store.transaction(async () => {
      for (const f of [file, ...companions]) await store.deleteFile(f.id);
      await this.dropEmpty(repo, plugin, file.versionId, scopes, file.path);
      await recordAudit(store.sql, { repo: repo.name, action: 'delete-file', target: file.path, detail: { sha256: file.sha256, size: file.size, ...(companions.length ? { companions: companions.map((f) => f.path) } : {}), ...(opts.reason ? { reason: opts.reason } : {}) } });
    });
    if (opts.publish !== false) await this.deps.publish(repo, [...scopes]);
    return [...scopes];
  }

  async deleteVersion(repo: Repository, packageName: string, version: string, opts: DeleteOptions = {}): Promise<string[]> {
    const { store } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const pkg = await store.getPackage(repo.id, packageName);
    const ver = pkg && (await store.getVersion(pkg.id, version));
    if (!pkg || !ver) throw notFound(`no version ${version} of ${packageName} in ${repo.name}`);
    const scopes = new Set<string>();
    await store.transaction(async () => {
      // Asked inside the transaction: a format may note the change (a cache marker) with it.
      for (const s of await plugin.scopesForPackage(this.deps.contextFor(repo), pkg.name)) scopes.add(s);
      await store.deleteVersion(ver.id);
      if ((await store.listVersionNames(pkg.id)).length === 0) {
        await store.deletePackage(pkg.id);
        for (const s of plugin.scopesForPackageSet ?? []) scopes.add(s);
      }
      for (const s of scopes) await store.markDirty(repo.id, s);
      await recordAudit(store.sql, { repo: repo.name, action: 'delete-version', target: `${pkg.name} ${ver.version}`, ...(opts.reason ? { detail: { reason: opts.reason } } : {}) });
    });
    if (opts.publish !== false) await this.deps.publish(repo, [...scopes]);
    return [...scopes];
  }

  async deletePackage(repo: Repository, packageName: string): Promise<void> {
    const { store } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const pkg = await store.getPackage(repo.id, packageName);
    if (!pkg) throw notFound(`no package ${packageName} in ${repo.name}`);
    const scopes = new Set<string>(plugin.scopesForPackageSet ?? []);
    await store.transaction(async () => {
      for (const s of await plugin.scopesForPackage(this.deps.contextFor(repo), pkg.name)) scopes.add(s);
      await store.deletePackage(pkg.id);
      for (const s of scopes) await store.markDirty(repo.id, s);
      await recordAudit(store.sql, { repo: repo.name, action: 'delete-package', target: pkg.name });
    });
    await this.deps.publish(repo, [...scopes]);
  }

  /** In the caller's transaction: awaits only the database. */
  private async dropEmpty(repo: Repository, plugin: FormatPlugin, versionId: number | null, scopes: Set<string>, path: string): Promise<void> {
    const { store } = this.deps;
    const ctx = this.deps.contextFor(repo);
    if (versionId === null) {
      for (const s of await plugin.scopesForPackage(ctx, path)) scopes.add(s);
    } else {
      const version = await store.getVersionById(versionId);
      if (version) {
        const pkg = (await store.getPackageById(version.packageId))!;
        for (const s of await plugin.scopesForPackage(ctx, pkg.name)) scopes.add(s);
        if ((await store.listFilesOfVersion(versionId)).length === 0) await store.deleteVersion(versionId);
        if ((await store.listVersionNames(pkg.id)).length === 0) {
          await store.deletePackage(pkg.id);
          for (const s of plugin.scopesForPackageSet ?? []) scopes.add(s);
        }
      }
    }
    for (const s of scopes) await store.markDirty(repo.id, s);
  }
}

/** The audit entry of an upload: its files, and which of them replaced different bytes (allowOverwrite). */
function uploadEntry(repo: Repository, plan: IngestPlan, rows: FileRow[], existing: (FileRow | undefined)[]) {
  const replaced = rows.filter((r, i) => existing[i] && existing[i]!.sha256 !== r.sha256).map((r) => r.path);
  return {
    repo: repo.name, action: 'upload', target: plan.files[0]?.path ?? null,
    detail: {
      ...(plan.package ? { package: plan.package.name, version: plan.package.version } : {}),
      files: rows.map((r) => ({ path: r.path, sha256: r.sha256, size: r.size })),
      ...(replaced.length ? { replaced } : {}),
      // An administrator dated the files back (a migration): the entry itself is dated now.
      ...(plan.uploadedAt ? { uploadedAt: plan.uploadedAt } : {}),
    },
  };
}

/** How long an upload's pin holds if its process dies before unpinning. */
export const BLOB_PIN_TTL_MS = 60 * 60_000;

/**
 * Pin blobs before storing them. While gc (on any process) is deleting one of them, wait for
 * it: the commit that follows then stores the bytes again.
 */
async function pinForCommit(store: Store, sha256s: string[]): Promise<string[]> {
  const unique = [...new Set(sha256s)];
  for (let waited = 0; ; waited += 20) {
    const pins = await store.pinBlobs(unique, BLOB_PIN_TTL_MS);
    if (pins) return pins;
    if (waited > 60_000) throw new Error('a blob stayed claimed by gc for a minute');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Run `fn` on every item, at most `limit` at once. */
async function eachAtOnce<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A plan carries its upload's original time, if it has one (a migration's). */
function withUploadTime(plan: IngestPlan, upload: UploadInput): IngestPlan {
  if (upload.uploadedAt) plan.uploadedAt = upload.uploadedAt;
  return plan;
}
