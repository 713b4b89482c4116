// Management actions with parity to an SSH-managed repo-add repository's client:
// list, clean (drop old versions, keep N), add (publish a package uploaded with add=false).
// Upload, remove, status and download are the generic API's.
import { recordAudit } from '../../core/audit.ts';
import { badRequest, notFound } from '../../core/errors.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import { repoArchitectures } from './arches.ts';
import { dbState } from './db-state.ts';
import { archOptions } from './options.ts';
import { parseRetentionArgs } from '../../core/retention.ts';
import { archOfFilename, packagePath, scopesOfArch } from './paths.ts';
import { vercmp } from './vercmp.ts';

const newestFirst = <T extends { version: string }>(list: T[]) => [...list].sort((a, b) => vercmp(b.version, a.version));

/** Every package with its newest version, description, and where it is published. */
async function list(ctx: RepoContext) {
  const state = await dbState(ctx);
  const published = new Map<string, Set<string>>();
  for (const arch of await repoArchitectures(ctx)) {
    for (const [name, file] of await state.listed(ctx, arch)) {
      let s = published.get(name);
      if (!s) published.set(name, (s = new Set()));
      s.add(`${file.version} (${arch})`);
    }
  }
  const packages = [];
  for (const pkg of await ctx.store.listPackages(ctx.repo.id)) {
    const versions = newestFirst(await ctx.store.listVersions(pkg.id));
    const files = versions.length ? await ctx.store.listFilesOfVersion(versions[0].id) : [];
    packages.push({
      name: pkg.name,
      version: versions[0]?.version ?? null,
      description: (versions[0]?.meta.description as string | null | undefined) ?? null,
      versions: versions.map((v) => v.version),
      architectures: [...new Set(files.filter((f) => f.meta.kind === 'package').map((f) => String(f.meta.arch)))],
      published: [...(published.get(pkg.name) ?? [])],
    });
  }
  return { packages };
}

/** Delete all but the newest `keep` versions of every package (or of one). */
async function clean(ctx: RepoContext, args: Record<string, unknown>) {
  // `keep` or `keepVersions` (default 1); Arch's retention is by count only.
  const keep = parseRetentionArgs(args.keep === undefined && args.keepVersions === undefined ? { ...args, keep: 1 } : args, { keepDays: false, except: false }).keepVersions!;
  const dryRun = args.dryRun === true || args.dry_run === true;
  const only = args.package === undefined ? undefined : String(args.package);
  const packages = only ? [await ctx.store.getPackage(ctx.repo.id, only)].filter((p) => p !== undefined) : await ctx.store.listPackages(ctx.repo.id);
  if (only && packages.length === 0) throw notFound(`no package ${only} in ${ctx.repo.name}`);
  const removed: { package: string; version: string; files: string[]; bytes: number }[] = [];
  for (const pkg of packages) {
    for (const v of newestFirst(await ctx.store.listVersions(pkg.id)).slice(keep)) {
      const files = await ctx.store.listFilesOfVersion(v.id);
      removed.push({ package: pkg.name, version: v.version, files: files.filter((f) => f.meta.kind === 'package').map((f) => f.path), bytes: files.reduce((n, f) => n + f.size, 0) });
      if (!dryRun) await ctx.services.deleteVersion(ctx.repo, pkg.name, v.version, { reason: 'retention' });
    }
  }
  return { dryRun, keep, removed, bytes: removed.reduce((n, r) => n + r.bytes, 0) };
}

/** Put a package that was uploaded with `add=false` into the dbs. */
async function add(ctx: RepoContext, args: Record<string, unknown>) {
  const filename = String(args.filename ?? '');
  const arch = archOfFilename(filename);
  const file = arch ? await ctx.store.getFileByPath(ctx.repo.id, packagePath(arch, filename)) : undefined;
  if (!file || file.meta.kind !== 'package') throw notFound(`no package file ${filename} in ${ctx.repo.name}`);
  const name = String(file.meta.pkgname);
  const scopes = (arch === 'any' ? await repoArchitectures(ctx) : [arch!]).flatMap(scopesOfArch);
  if (file.meta.held === true) {
    // With its scopes marked dirty in one transaction: a crash before the publish below
    // leaves them to be rebuilt at the next start. The row is read again in it: an upload
    // may have replaced the file since it was read above, and its meta is not overwritten.
    await ctx.store.transaction(async () => {
      const cur = await ctx.store.getFileByPath(ctx.repo.id, file.path);
      if (cur?.meta.kind !== 'package' || cur.meta.held !== true) return;
      await ctx.store.updateFileMeta(cur.id, { ...cur.meta, held: false });
      for (const s of scopes) await ctx.store.markDirty(ctx.repo.id, s);
      await recordAudit(ctx.store.sql, { repo: ctx.repo.name, action: 'add', target: cur.path, detail: { held: [true, false] } });
    });
  }
  await ctx.services.publish(ctx.repo, scopes);
  return { added: file.path, package: name, version: file.meta.pkgver, requireSignedUploads: archOptions(ctx.repo).requireSignedUploads };
}

// A proxy's cached files are managed with the generic API (delete); these read hosted dbs.
const hostedOnly = <A extends unknown[], R>(fn: (ctx: RepoContext, ...args: A) => Promise<R>) => (ctx: RepoContext, ...args: A): Promise<R> => {
  if (ctx.repo.kind !== 'hosted') return Promise.reject(badRequest(`this action is for hosted repositories; ${ctx.repo.name} is a ${ctx.repo.kind}`));
  return fn(ctx, ...args);
};

/** `list` only reads: anyone who may read the repository may list it. */
export const archActionAccess = { list: 'read' } as const;

export const archActions = {
  list: hostedOnly((ctx: RepoContext) => list(ctx)),
  clean: hostedOnly(clean),
  add: hostedOnly(add),
};
