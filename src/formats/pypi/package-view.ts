// A PyPI project as its page shows it: releases newest first (PEP 440), each with its
// distributions, yanked state (PEP 592), Requires-Python and Requires-Dist, and the pip command
// for exactly that release; the long description of the release pypi.org would show.
import type { PackageBadge, PackageSite, PackageView, PackageViewVersion, RepoContext } from '../../core/format-plugin.ts';
import type { PackageRow } from '../../core/model.ts';
import type { FileWithVersion } from '../../db/store.ts';
import { viewFile } from '../../core/package-view.ts';
import type { CoreMetadata } from './core-metadata.ts';
import { ACTIVE, readStatus } from './project-status.ts';
import { pipIndexOptions } from './setup.ts';
import { compareVersions, isPrerelease } from './version.ts';

const PACKAGE_TYPES: Record<string, string> = { bdist_wheel: 'wheel', sdist: 'sdist', bdist_egg: 'egg', bdist_wininst: 'wininst' };

/** Markdown when the metadata says so (`text/markdown`, with any parameters); anything else is text. */
export function descriptionKind(contentType: string | undefined): 'markdown' | 'text' {
  return contentType !== undefined && /^\s*text\/markdown\s*(;|$)/i.test(contentType) ? 'markdown' : 'text';
}

interface Release {
  version: string;
  meta: Partial<CoreMetadata>;
  dists: FileWithVersion[];
}

function releaseFields(r: Release): [string, string | string[]][] {
  const m = r.meta;
  const requiresPython = m.requiresPython ?? r.dists.map((f) => f.meta.requiresPython).find((v): v is string => typeof v === 'string' && v !== '');
  const fields: [string, string | string[]][] = [];
  if (requiresPython) fields.push(['Requires-Python', requiresPython]);
  if (m.requiresDist?.length) fields.push(['Requires-Dist', m.requiresDist]);
  if (m.providesExtra?.length) fields.push(['Provides-Extra', m.providesExtra]);
  const license = m.licenseExpression ?? m.license;
  if (license) fields.push(['License', license.split('\n')[0]]);
  const author = m.author ?? m.authorEmail;
  if (author) fields.push(['Author', author]);
  if (m.maintainer ?? m.maintainerEmail) fields.push(['Maintainer', (m.maintainer ?? m.maintainerEmail)!]);
  if (m.classifiers?.length) fields.push(['Classifiers', m.classifiers]);
  return fields;
}

export async function pypiPackageView(ctx: RepoContext, pkg: PackageRow, site: PackageSite): Promise<PackageView> {
  const versions = new Map((await ctx.store.listVersionsBrief(pkg.id)).map((v) => [v.version, { id: v.id, version: v.version, meta: v.meta as Partial<CoreMetadata>, dists: [] as FileWithVersion[] }]));
  for (const f of await ctx.store.listFilesOfPackage(pkg.id)) {
    if (f.meta.kind !== 'dist') continue;
    if (f.version !== null) versions.get(f.version)?.dists.push(f);
  }
  const releases = [...versions.values()].sort((a, b) => compareVersions(b.version, a.version));
  const yanked = (r: Release) => r.dists.length > 0 && r.dists.every((f) => f.meta.yanked === true);
  // The release pip picks without a pin, and pypi.org shows: newest final that is not yanked.
  const latest = releases.find((r) => !yanked(r) && !isPrerelease(r.version)) ?? releases.find((r) => !yanked(r)) ?? releases[0];
  const pip = pipIndexOptions(site.url, site.private);
  const stored = ctx.repo.kind === 'hosted' ? await ctx.store.getPackageStatus(ctx.repo.id, pkg.name) : undefined;
  const status = stored ? readStatus(stored.status, stored.reason) : ACTIVE;

  const view: PackageViewVersion[] = releases.map((r) => {
    const badges: PackageBadge[] = [];
    if (r === latest) badges.push({ text: 'latest', tone: 'ok' });
    if (isPrerelease(r.version)) badges.push({ text: 'pre-release', tone: 'warn' });
    if (yanked(r)) badges.push({ text: 'yanked', tone: 'bad' });
    // PEP 792: the project's status, on the release pip would pick.
    if (r === latest && status.status !== 'active') badges.push({ text: `project ${status.status}${status.reason ? `: ${status.reason}` : ''}`, tone: status.status === 'quarantined' ? 'bad' : 'warn' });
    const files = r.dists.map((f) => {
      const fb: PackageBadge[] = [{ text: PACKAGE_TYPES[String(f.meta.packagetype)] ?? String(f.meta.packagetype ?? 'file') }];
      if (typeof f.meta.pythonVersion === 'string' && f.meta.pythonVersion !== '' && f.meta.pythonVersion !== 'source') fb.push({ text: f.meta.pythonVersion });
      if (f.meta.yanked === true) fb.push({ text: 'yanked', tone: 'bad' });
      const note = f.meta.yanked === true ? `Yanked${typeof f.meta.yankedReason === 'string' && f.meta.yankedReason ? `: ${f.meta.yankedReason}` : ' (no reason given)'}` : undefined;
      return viewFile(f, site, fb, note);
    });
    return {
      version: r.version,
      badges,
      fields: releaseFields(r),
      files,
      install: r.dists.length === 0 ? [] : [{
        text: yanked(r) ? 'This release is yanked: pip installs it only when pinned exactly, as here.' : 'Install exactly this release:',
        code: `pip install ${pip}${pkg.name}==${r.version}`,
      }],
    };
  });

  const meta = latest?.meta ?? {};
  const description = latest ? await ctx.store.versionDescription(latest.id) : null;
  const links: { label: string; url: string }[] = [];
  if (meta.homePage) links.push({ label: 'Homepage', url: meta.homePage });
  for (const [label, url] of Object.entries(meta.projectUrls ?? {})) links.push({ label, url });
  return {
    versions: view,
    summary: meta.summary ?? null,
    links,
    description: description && description.trim() !== ''
      ? { kind: descriptionKind(meta.descriptionContentType), text: description }
      : null,
  };
}
