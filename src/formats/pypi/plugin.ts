// The PyPI format: hosted Python package indexes that pip and twine use.
import { recordAudit } from '../../core/audit.ts';
import { badRequest, notFound } from '../../core/errors.ts';
import type { FormatPlugin, RepoContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import { planPypiUpload } from './ingest.ts';
import { mirrorSync, normalizeMirrorSchedule, type MirrorSchedule } from './mirror-sync.ts';
import { isValidProjectName, normalizeName } from './names.ts';
import { ACTIVE, parseStatusInput, readStatus } from './project-status.ts';
import { buildProjectDocuments, buildRootDocuments } from './pages.ts';
import { metadataPath, projectScope, ROOT_SCOPE, scopeOfKey } from './paths.ts';
import { pypiRoutes } from './routes.ts';
import { normalizeVersion } from './version.ts';
import { cleanPypi, parsePypiExceptions } from './retention.ts';
import { normalizeRetentionOption, retentionSchedule } from '../../core/retention.ts';
import { pypiSetup } from './setup.ts';
import { pypiPackageView } from './package-view.ts';
import { pypiStaticEntries, pypiStaticEntriesOf } from './static.ts';

/** PEP 592: yank or unyank every file of a version, or one file of it. */
async function setYanked(ctx: RepoContext, args: Record<string, unknown>, yanked: boolean) {
  const project = normalizeName(String(args.package ?? ''));
  const version = normalizeVersion(String(args.version ?? '')) ?? String(args.version ?? '');
  const filename = args.filename === undefined ? undefined : String(args.filename);
  const reason = args.reason === undefined || args.reason === null ? null : String(args.reason);
  if (!project || !version) throw badRequest('give "package" and "version" (and optionally "filename", "reason")');
  const pkg = await ctx.store.getPackage(ctx.repo.id, project);
  const ver = pkg && await ctx.store.getVersion(pkg.id, version);
  if (!pkg || !ver) throw notFound(`no version ${version} of ${project} in ${ctx.repo.name}`);
  const wanted = (f: FileRow) => f.meta.kind === 'dist' && (!filename || f.filename === filename);
  const files = (await ctx.store.listFilesOfVersion(ver.id)).filter(wanted);
  if (files.length === 0) throw notFound(`no file ${filename} in ${project} ${version}`);
  await ctx.store.transaction(async () => {
    // The rows read again in the transaction: an upload or a yank meanwhile is not undone.
    const changed: string[] = [];
    for (const f of (await ctx.store.listFilesOfVersion(ver.id)).filter(wanted)) {
      await ctx.store.updateFileMeta(f.id, { ...f.meta, yanked, yankedReason: yanked ? reason : null });
      changed.push(f.filename);
    }
    await ctx.store.markDirty(ctx.repo.id, projectScope(project));
    await recordAudit(ctx.store.sql, { repo: ctx.repo.name, action: yanked ? 'yank' : 'unyank', target: `${project} ${version}`, detail: { files: changed, ...(yanked && reason ? { reason } : {}) } });
  });
  await ctx.services.publish(ctx.repo, [projectScope(project)]);
  return { package: project, version, files: files.map((f) => f.filename), yanked, reason: yanked ? reason : null };
}

/**
 * PEP 792: set a hosted project's status (`status`: active, archived, quarantined, deprecated;
 * `reason` optional), or with no `status` read it. The pages are rebuilt at once; the change
 * reaches other processes through the change feed (the status row's trigger).
 */
async function projectStatus(ctx: RepoContext, args: Record<string, unknown>) {
  const project = normalizeName(String(args.package ?? ''));
  if (!project || !isValidProjectName(String(args.package))) throw badRequest('give "package" (and "status", optionally "reason")');
  if (ctx.repo.kind !== 'hosted') throw badRequest(`${ctx.repo.name} is a ${ctx.repo.kind} repository: a project's status is set where it is hosted (proxies show their upstream's)`);
  if (args.status === undefined) {
    const s = await ctx.store.getPackageStatus(ctx.repo.id, project);
    return { package: project, ...(s ? readStatus(s.status, s.reason) : ACTIVE) };
  }
  const status = parseStatusInput(args.status, args.reason);
  await ctx.store.transaction(async () => {
    const before = await ctx.store.getPackageStatus(ctx.repo.id, project);
    await ctx.store.setPackageStatus(ctx.repo.id, project, status.status === 'active' && !status.reason ? null : status);
    await ctx.store.markDirty(ctx.repo.id, projectScope(project));
    const old = before ? readStatus(before.status, before.reason) : ACTIVE;
    await recordAudit(ctx.store.sql, { repo: ctx.repo.name, action: 'project-status', target: project, detail: { status: [old.status, status.status], reason: [old.reason ?? null, status.reason ?? null] } });
  });
  await ctx.services.publish(ctx.repo, [projectScope(project)]);
  return { package: project, ...status };
}

export const pypiFormat: FormatPlugin = {
  format: 'pypi',
  kinds: ['hosted', 'proxy', 'group'],
  cooldown: true,
  normalizeOptions(options, kind) {
    // Proxy and group options (upstream, members…) are the core's; PyPI adds only this one.
    const known = new Set(kind === 'hosted' ? ['allowOverwrite', 'retention'] : kind === 'proxy' ? ['mirror'] : []);
    for (const k of Object.keys(options)) if (!known.has(k)) throw badRequest(`unknown option ${JSON.stringify(k)} for a ${kind} pypi repository`);
    if (kind === 'proxy') return options.mirror === undefined ? {} : { mirror: normalizeMirrorSchedule(options.mirror) };
    if (kind !== 'hosted') return {};
    if (options.allowOverwrite !== undefined && typeof options.allowOverwrite !== 'boolean') throw badRequest('allowOverwrite must be true or false');
    const retention = normalizeRetentionOption(options.retention, { keepDays: true, except: true });
    if (retention) parsePypiExceptions(retention.except ?? []);
    return { allowOverwrite: options.allowOverwrite === true, ...(retention ? { retention } : {}) };
  },
  routes: pypiRoutes,
  staticEntries: pypiStaticEntries,
  staticEntriesOf: pypiStaticEntriesOf,
  ingest: planPypiUpload,
  async buildScope(ctx, scope) {
    if (scope === ROOT_SCOPE) return buildRootDocuments(ctx);
    if (scope.startsWith('project:')) return buildProjectDocuments(ctx, scope.slice('project:'.length));
    return [];
  },
  // Time travel: the pages of an instant, by the same builders on that instant's files.
  asOf: {
    scopeOfKey,
    buildScope: (ctx, scope) => (scope === ROOT_SCOPE ? buildRootDocuments(ctx) : buildProjectDocuments(ctx, scope.slice('project:'.length))),
    // A group's pages, files and JSON API are made from its hosted members' rows and documents.
    groups: true,
  },
  scopesForPackage: (_ctx, name) => [projectScope(name)],
  scopesForPackageSet: [ROOT_SCOPE],
  deferredScopes: [ROOT_SCOPE],
  companionPaths: (file: FileRow) => (file.meta.kind === 'dist' ? [metadataPath(file.path)] : []),
  async onCreate(ctx) {
    if (ctx.repo.kind === 'hosted') await ctx.services.publish(ctx.repo, [ROOT_SCOPE]);
  },
  schedule(repo) {
    if (repo.kind === 'hosted') return retentionSchedule(repo);
    const m = repo.kind === 'proxy' ? (repo.options.mirror as MirrorSchedule | undefined) : undefined;
    if (!m) return null;
    const { everyMinutes, ...args } = m;
    return { action: 'mirror-sync', args, everyMinutes };
  },
  actions: {
    yank: (ctx, args) => setYanked(ctx, args, true),
    unyank: (ctx, args) => setYanked(ctx, args, false),
    'project-status': (ctx, args) => projectStatus(ctx, args),
    'mirror-sync': (ctx, args, progress) => mirrorSync(ctx, args, progress),
    clean: cleanPypi,
  },
  setupGuide: (ctx, site) => pypiSetup(ctx.repo, site),
  packageName: normalizeName,
  packageView: pypiPackageView,
};
