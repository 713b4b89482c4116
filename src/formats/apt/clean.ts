// Retention and removal inside suites: `clean` keeps the N newest versions (dpkg order) of
// each package, per suite, component and architecture; `remove` takes one version out of one
// suite or all. A .deb leaves the pool only when no suite lists it any more.
import { recordAudit } from '../../core/audit.ts';
import { badRequest, notFound } from '../../core/errors.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import { parseRetentionArgs } from '../../core/retention.ts';
import { suiteScope } from './paths.ts';
import { knownSuites } from './suite-build.ts';
import { compareDebVersions } from './version.ts';

/** One version taken out of one suite (the shape `wharf clean` prints, plus APT's suite and architecture). */
export interface Removal {
  suite: string;
  package: string;
  version: string;
  architecture: string;
  files: string[];
  /** Bytes freed: the .deb's size when no other suite lists it, else 0. */
  bytes: number;
}

/** Take `suite` out of these files' memberships (every suite when null); delete files left in none. */
async function removeFromSuites(ctx: RepoContext, files: { file: FileRow; suite: string | null }[], action: 'clean' | 'remove'): Promise<void> {
  const { store, repo } = ctx;
  const scopes = new Set<string>();
  await store.transaction(async () => {
    // The rows as they are now: they were read before, and another request may have changed
    // them since (a suite added by an upload, the file replaced or deleted).
    const current = new Map<number, FileRow | undefined>();
    for (const { file } of files) if (!current.has(file.id)) current.set(file.id, await store.getFileById(file.id));
    const suitesLeft = new Map<number, { file: FileRow; suites: string[] }>();
    for (const { file: read, suite } of files) {
      const file = current.get(read.id);
      if (!file || file.path !== read.path || file.sha256 !== read.sha256) continue;
      const cur = suitesLeft.get(file.id) ?? { file, suites: (file.meta.suites as string[] | undefined) ?? [] };
      for (const s of suite === null ? cur.suites : [suite]) scopes.add(suiteScope(s));
      cur.suites = suite === null ? [] : cur.suites.filter((s) => s !== suite);
      suitesLeft.set(file.id, cur);
    }
    const deleted: string[] = [];
    const narrowed: { path: string; suites: [string[], string[]] }[] = [];
    for (const { file, suites } of suitesLeft.values()) {
      if (suites.length > 0) {
        await store.updateFileMeta(file.id, { ...file.meta, suites });
        narrowed.push({ path: file.path, suites: [(file.meta.suites as string[] | undefined) ?? [], suites] });
        continue;
      }
      await store.deleteFile(file.id);
      deleted.push(file.path);
      if (file.versionId === null) continue;
      const version = await store.getVersionById(file.versionId);
      if (!version || (await store.listFilesOfVersion(version.id)).length > 0) continue;
      await store.deleteVersion(version.id);
      if ((await store.listVersionNames(version.packageId)).length === 0) await store.deletePackage(version.packageId);
    }
    for (const s of scopes) await store.markDirty(repo.id, s);
    if (deleted.length || narrowed.length) await recordAudit(store.sql, { repo: repo.name, action, target: deleted[0] ?? narrowed[0].path, detail: { deleted, narrowed, ...(action === 'clean' ? { reason: 'retention' } : {}) } });
  });
  await ctx.services.publish(repo, [...scopes]);
}

async function debFiles(ctx: RepoContext, packageName?: string): Promise<{ file: FileRow; name: string; version: string }[]> {
  const packages = packageName === undefined ? await ctx.store.listPackages(ctx.repo.id) : [await ctx.store.getPackage(ctx.repo.id, packageName)].filter((p) => p !== undefined);
  const out: { file: FileRow; name: string; version: string }[] = [];
  for (const p of packages) {
    for (const f of await ctx.store.listFilesOfPackage(p.id)) if (f.meta.kind === 'deb') out.push({ file: f, name: p.name, version: f.version ?? '' });
  }
  return out;
}

/** `clean`: keep the newest `keep` versions per package, suite, component and architecture. */
export async function clean(ctx: RepoContext, args: Record<string, unknown>) {
  // `keep` or `keepVersions`; APT's retention is by count only (suites have no upload times).
  if (args.keep === undefined && args.keepVersions === undefined) throw badRequest('give "keepVersions" (or "keep"): how many versions of each package to keep (1 or more)');
  const keep = parseRetentionArgs(args, { keepDays: false, except: false }).keepVersions!;
  const dryRun = args.dryRun === true || args.dry_run === true;
  const onlySuite = args.suite === undefined ? undefined : String(args.suite);
  const onlyPackage = args.package === undefined ? undefined : String(args.package);
  if (onlySuite !== undefined && !(await knownSuites(ctx)).includes(onlySuite)) throw notFound(`no suite ${onlySuite} in ${ctx.repo.name}`);

  const groups = new Map<string, { file: FileRow; name: string; version: string; suite: string }[]>();
  for (const f of await debFiles(ctx, onlyPackage)) {
    for (const suite of (f.file.meta.suites as string[] | undefined) ?? []) {
      if (onlySuite !== undefined && suite !== onlySuite) continue;
      const key = [suite, f.file.meta.component, f.name, f.file.meta.architecture].join('\0');
      const list = groups.get(key) ?? [];
      list.push({ ...f, suite });
      groups.set(key, list);
    }
  }
  const removals: { file: FileRow; suite: string }[] = [];
  const removed: Removal[] = [];
  let kept = 0;
  for (const list of groups.values()) {
    list.sort((a, b) => compareDebVersions(b.version, a.version));
    kept += Math.min(keep, list.length);
    for (const f of list.slice(keep)) {
      removals.push({ file: f.file, suite: f.suite });
      removed.push({ suite: f.suite, package: f.name, version: f.version, architecture: String(f.file.meta.architecture), files: [f.file.path], bytes: 0 });
    }
  }
  // A file frees its bytes when every suite that lists it lets it go.
  const dropped = new Map<number, number>();
  for (const r of removals) dropped.set(r.file.id, (dropped.get(r.file.id) ?? 0) + 1);
  removals.forEach((r, i) => {
    const suites = (r.file.meta.suites as string[] | undefined) ?? [];
    if (dropped.get(r.file.id) === suites.length) {
      removed[i].bytes = r.file.size;
      dropped.set(r.file.id, -1);
    }
  });
  if (!dryRun && removals.length > 0) await removeFromSuites(ctx, removals, 'clean');
  return { dryRun, keep, kept, removed, bytes: removed.reduce((n, r) => n + r.bytes, 0) };
}

/** `remove`: one version of a package out of one suite (`suite`) or out of all of them. */
export async function remove(ctx: RepoContext, args: Record<string, unknown>) {
  const name = String(args.package ?? '');
  const version = String(args.version ?? '');
  if (!name || !version) throw badRequest('give "package" and "version" (and optionally "suite", "architecture")');
  const suite = args.suite === undefined ? null : String(args.suite);
  const arch = args.architecture === undefined ? undefined : String(args.architecture);
  const files = (await debFiles(ctx, name)).filter((f) => f.version === version && (arch === undefined || f.file.meta.architecture === arch)
    && (suite === null || ((f.file.meta.suites as string[] | undefined) ?? []).includes(suite)));
  if (files.length === 0) throw notFound(`no version ${version} of ${name}${suite ? ` in suite ${suite}` : ''} in ${ctx.repo.name}`);
  await removeFromSuites(ctx, files.map((f) => ({ file: f.file, suite })), 'remove');
  return { removed: files.map((f) => ({ suite: suite ?? ((f.file.meta.suites as string[]).join(',')), package: name, version, architecture: String(f.file.meta.architecture), files: [f.file.path] })) };
}
