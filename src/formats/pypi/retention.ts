// Retention for hosted PyPI projects (docs/pypi.md "Retention"; docs/decisions.md): which
// versions `clean` deletes, as a pure selection, and the action that deletes them through the
// core's delete path.
import { badRequest, notFound } from '../../core/errors.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import { isDryRun, parseRetentionArgs, pastKeepDays, type RetentionPolicy } from '../../core/retention.ts';
import { isValidProjectName, normalizeName } from './names.ts';
import { compareVersions, normalizeVersion } from './version.ts';

export interface RetainedVersion {
  version: string;
  /** When its newest file was uploaded (ISO 8601). */
  uploadedAt: string;
  /** Every file of it is yanked (PEP 592): pip passes it over unless pinned. */
  yanked: boolean;
}

/** Exceptions parsed: whole projects, and `project==version` pins. */
export interface PypiExceptions {
  projects: Set<string>;
  /** Project → pinned versions (canonical). */
  pins: Map<string, string[]>;
}

export function parsePypiExceptions(list: string[]): PypiExceptions {
  const out: PypiExceptions = { projects: new Set(), pins: new Map() };
  for (const e of list) {
    const m = /^([^=\s]+)\s*(?:===?\s*(\S+))?$/.exec(e);
    if (!m || !isValidProjectName(m[1])) throw badRequest(`except: ${JSON.stringify(e)} is neither a project name nor "project==version"`);
    if (m[2] === undefined) {
      out.projects.add(normalizeName(m[1]));
      continue;
    }
    const v = normalizeVersion(m[2]);
    if (v === null) throw badRequest(`except: ${JSON.stringify(e)} pins an invalid version (PEP 440)`);
    const name = normalizeName(m[1]);
    out.pins.set(name, [...(out.pins.get(name) ?? []), v]);
  }
  return out;
}

/**
 * The versions of one project that retention deletes. A version goes only when no rule keeps
 * it: it is not among the `keepVersions` newest (PEP 440 order) and it is older than
 * `keepDays`. Yanked versions do not count towards `keepVersions` (they are not what pip
 * installs), but one newer than the oldest counted version stays with them. The newest version
 * always stays; pinned versions (`project==version`) stay and do not count.
 */
export function selectPypiVersions(project: string, versions: RetainedVersion[], policy: RetentionPolicy, exceptions: PypiExceptions, now: number): RetainedVersion[] {
  if (exceptions.projects.has(project)) return [];
  // PEP 440 equality: `==1.1.0` pins 1.1 (zero padding), not 1.1+local.
  const pins = exceptions.pins.get(project) ?? [];
  const pinned = (v: RetainedVersion) => pins.some((p) => compareVersions(p, v.version) === 0);
  const newestFirst = versions.filter((v) => !pinned(v)).sort((a, b) => compareVersions(b.version, a.version));
  if (newestFirst.length === 0) return [];
  // Index (in newestFirst) of the oldest version kept by count: everything up to it stays.
  let keptUpTo = 0;
  if (policy.keepVersions !== undefined) {
    let counted = 0;
    keptUpTo = newestFirst.length - 1;
    for (let i = 0; i < newestFirst.length; i++) {
      if (newestFirst[i].yanked) continue;
      if (++counted === policy.keepVersions) {
        keptUpTo = i;
        break;
      }
    }
  }
  return newestFirst.filter((v, i) => i > keptUpTo && pastKeepDays(policy, v.uploadedAt, now));
}

/** The `clean` action of a hosted PyPI repository. */
export async function cleanPypi(ctx: RepoContext, args: Record<string, unknown>) {
  if (ctx.repo.kind !== 'hosted') throw badRequest(`clean is for hosted repositories; ${ctx.repo.name} is a ${ctx.repo.kind}`);
  const policy = parseRetentionArgs(args, { keepDays: true, except: true });
  const exceptions = parsePypiExceptions(policy.except);
  const dryRun = isDryRun(args);
  const only = args.package === undefined ? undefined : normalizeName(String(args.package));
  const packages = only === undefined ? await ctx.store.listPackages(ctx.repo.id) : [await ctx.store.getPackage(ctx.repo.id, only)].filter((p) => p !== undefined);
  if (only !== undefined && packages.length === 0) throw notFound(`no project ${only} in ${ctx.repo.name}`);
  const now = Date.now();
  const removed: { package: string; version: string; files: string[]; bytes: number }[] = [];
  let kept = 0;
  // Every deletion marks its scopes dirty; they are published once, at the end.
  const scopes = new Set<string>();
  for (const pkg of packages) {
    const byVersion = new Map<string, { v: RetainedVersion; files: string[]; bytes: number }>();
    for (const f of await ctx.store.listFilesOfPackage(pkg.id)) {
      const version = f.version ?? '';
      const e = byVersion.get(version) ?? { v: { version, uploadedAt: f.createdAt, yanked: true }, files: [] as string[], bytes: 0 };
      if (f.createdAt > e.v.uploadedAt) e.v.uploadedAt = f.createdAt;
      if (f.meta.kind === 'dist') {
        e.files.push(f.filename);
        if (f.meta.yanked !== true) e.v.yanked = false;
      }
      e.bytes += f.size;
      byVersion.set(version, e);
    }
    const gone = selectPypiVersions(pkg.name, [...byVersion.values()].map((e) => e.v), policy, exceptions, now);
    kept += byVersion.size - gone.length;
    for (const v of gone) {
      const e = byVersion.get(v.version)!;
      removed.push({ package: pkg.name, version: v.version, files: e.files, bytes: e.bytes });
      if (dryRun) continue;
      try {
        for (const s of await ctx.services.deleteVersion(ctx.repo, pkg.name, v.version, { reason: 'retention', publish: false })) scopes.add(s);
      } catch (err) {
        // Deleted by someone else since it was read: it is gone either way.
        if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
      }
    }
  }
  if (scopes.size) await ctx.services.publish(ctx.repo, [...scopes]);
  return { dryRun, ...policy, keep: policy.keepVersions ?? null, kept, removed, bytes: removed.reduce((n, r) => n + r.bytes, 0) };
}
