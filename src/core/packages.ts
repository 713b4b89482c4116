// Hosted repository writes, the same for every format: record what a format's ingest
// planned (blobs committed first, then rows in one transaction), and delete files, versions
// and packages; then publish the affected index scopes.
import type { Store } from '../db/store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { conflict, notFound } from './errors.ts';
import type { FormatPlugin, IngestPlan, IngestResult, RepoContext, UploadInput } from './format-plugin.ts';
import type { FileRow, Repository } from './model.ts';

export interface PackageServiceDeps {
  store: Store;
  blobs: BlobStore;
  contextFor(repo: Repository): RepoContext;
  pluginFor(repo: Repository): FormatPlugin;
  publish(repo: Repository, scopes: string[]): Promise<void>;
}

export class PackageService {
  private readonly deps: PackageServiceDeps;

  constructor(deps: PackageServiceDeps) {
    this.deps = deps;
  }

  async ingest(repo: Repository, upload: UploadInput): Promise<IngestResult> {
    const plugin = this.deps.pluginFor(repo);
    const ctx = this.deps.contextFor(repo);
    let plan: IngestPlan;
    try {
      plan = await plugin.ingest(ctx, upload);
    } catch (err) {
      await this.deps.blobs.discard(upload.staged);
      throw err;
    }
    try {
      return await this.record(repo, plugin, plan);
    } finally {
      for (const f of plan.files) await this.deps.blobs.discard(f.blob);
      await this.deps.blobs.discard(upload.staged);
    }
  }

  /** Record a plan made elsewhere (e.g. a proxy caching upstream content); its blobs are committed or discarded. */
  async recordPlan(repo: Repository, plan: IngestPlan): Promise<IngestResult> {
    try {
      return await this.record(repo, this.deps.pluginFor(repo), plan);
    } finally {
      for (const f of plan.files) await this.deps.blobs.discard(f.blob);
    }
  }

  private async record(repo: Repository, plugin: FormatPlugin, plan: IngestPlan): Promise<IngestResult> {
    const { store, blobs } = this.deps;
    const allowOverwrite = repo.options.allowOverwrite === true;
    // Decide before touching anything: identical files are idempotent, different bytes under
    // a published name are a conflict unless the repository allows overwriting.
    const existing = plan.files.map((f) => store.getFileByPath(repo.id, f.path));
    plan.files.forEach((f, i) => {
      const old = existing[i];
      if (old && old.sha256 !== f.blob.sha256 && !allowOverwrite) {
        throw conflict(`${f.filename} already exists with different content; delete it first or enable overwrite`);
      }
    });
    if (existing.every((old, i) => old && old.sha256 === plan.files[i].blob.sha256)) {
      return { status: 'exists', files: existing as FileRow[] };
    }
    for (const f of plan.files) await blobs.commit(f.blob);
    let packageCreated = false;
    const files = store.transaction(() => {
      let versionId: number | null = null;
      if (plan.package) {
        packageCreated = !store.getPackage(repo.id, plan.package.name);
        const packageId = store.upsertPackage(repo.id, plan.package.name, plan.package.displayName);
        versionId = store.upsertVersion(packageId, plan.package.version, plan.package.versionMeta);
        store.updateVersionMeta(versionId, plan.package.versionMeta);
        if (plan.package.packageMeta) store.updatePackageMeta(packageId, plan.package.packageMeta);
      }
      const rows: FileRow[] = [];
      plan.files.forEach((f, i) => {
        store.insertBlob(f.blob.sha256, f.blob.size);
        const old = existing[i];
        if (old) {
          store.replaceFileContent(old.id, { sha256: f.blob.sha256, size: f.blob.size, meta: f.meta });
          rows.push(store.getFileById(old.id)!);
        } else {
          rows.push(store.insertFile({ repoId: repo.id, versionId, path: f.path, filename: f.filename, sha256: f.blob.sha256, size: f.blob.size, meta: f.meta }));
        }
      });
      // Proxies cache content; only hosted repositories publish indexes of their own.
      if (repo.kind !== 'hosted') packageCreated = false;
      const scopes = [...plan.scopes, ...(packageCreated ? plugin.scopesForPackageSet ?? [] : [])];
      for (const s of scopes) store.markDirty(repo.id, s);
      return rows;
    });
    await this.deps.publish(repo, [...plan.scopes, ...(packageCreated ? plugin.scopesForPackageSet ?? [] : [])]);
    return { status: 'created', files };
  }

  /** Delete one file (and its companions); empty versions and packages go with it. */
  async deleteFile(repo: Repository, path: string): Promise<void> {
    const { store } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const file = store.getFileByPath(repo.id, path);
    if (!file) throw notFound(`no file ${path} in ${repo.name}`);
    const companions = (plugin.companionPaths?.(file) ?? []).map((p) => store.getFileByPath(repo.id, p)).filter((f) => f !== undefined);
    const scopes = new Set<string>();
    store.transaction(() => {
      for (const f of [file, ...companions]) store.deleteFile(f.id);
      this.dropEmpty(repo, plugin, file.versionId, scopes, file.path);
    });
    await this.deps.publish(repo, [...scopes]);
  }

  async deleteVersion(repo: Repository, packageName: string, version: string): Promise<void> {
    const { store } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const pkg = store.getPackage(repo.id, packageName);
    const ver = pkg && store.getVersion(pkg.id, version);
    if (!pkg || !ver) throw notFound(`no version ${version} of ${packageName} in ${repo.name}`);
    const scopes = new Set<string>(plugin.scopesForPackage(this.deps.contextFor(repo), pkg.name));
    store.transaction(() => {
      store.deleteVersion(ver.id);
      if (store.listVersions(pkg.id).length === 0) {
        store.deletePackage(pkg.id);
        for (const s of plugin.scopesForPackageSet ?? []) scopes.add(s);
      }
      for (const s of scopes) store.markDirty(repo.id, s);
    });
    await this.deps.publish(repo, [...scopes]);
  }

  async deletePackage(repo: Repository, packageName: string): Promise<void> {
    const { store } = this.deps;
    const plugin = this.deps.pluginFor(repo);
    const pkg = store.getPackage(repo.id, packageName);
    if (!pkg) throw notFound(`no package ${packageName} in ${repo.name}`);
    const scopes = new Set<string>([...plugin.scopesForPackage(this.deps.contextFor(repo), pkg.name), ...(plugin.scopesForPackageSet ?? [])]);
    store.transaction(() => {
      store.deletePackage(pkg.id);
      for (const s of scopes) store.markDirty(repo.id, s);
    });
    await this.deps.publish(repo, [...scopes]);
  }

  private dropEmpty(repo: Repository, plugin: FormatPlugin, versionId: number | null, scopes: Set<string>, path: string): void {
    const { store } = this.deps;
    const ctx = this.deps.contextFor(repo);
    if (versionId === null) {
      for (const s of plugin.scopesForPackage(ctx, path)) scopes.add(s);
    } else {
      const version = store.getVersionById(versionId);
      if (version) {
        const pkg = store.getPackageById(version.packageId)!;
        for (const s of plugin.scopesForPackage(ctx, pkg.name)) scopes.add(s);
        if (store.listFilesOfVersion(versionId).length === 0) store.deleteVersion(versionId);
        if (store.listVersions(pkg.id).length === 0) {
          store.deletePackage(pkg.id);
          for (const s of plugin.scopesForPackageSet ?? []) scopes.add(s);
        }
      }
    }
    for (const s of scopes) store.markDirty(repo.id, s);
  }
}
