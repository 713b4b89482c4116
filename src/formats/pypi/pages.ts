// Building the published documents of a PyPI repository from the database: the root
// simple page, and per project its simple pages (HTML and JSON) and its JSON API document.
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import type { FileWithVersion } from '../../db/store.ts';
import type { CoreMetadata } from './core-metadata.ts';
import { answeredVersion, renderProjectJsonApi, type JsonApiFile, type JsonApiInput, type JsonApiVersion } from './json-api.ts';
import { contentTypeFor } from './negotiate.ts';
import { fileUrlFromPage, jsonApiKey, projectKey, rootKey } from './paths.ts';
import { renderProjectHtml, renderRootHtml } from './simple-html.ts';
import { renderProjectJson, renderRootJson } from './simple-json.ts';
import { ACTIVE, offersFiles, readStatus } from './project-status.ts';
import { pageVersions, toIsoUtc } from './simple-types.ts';

/** The distribution files of one project (not their `.metadata` companions), as pages list them. */
export async function projectFiles(ctx: RepoContext, packageId: number, urlFor = fileUrlFromPage): Promise<{ files: JsonApiFile[]; rows: FileWithVersion[] }> {
  const rows = (await ctx.store.listFilesOfPackage(packageId)).filter((f) => f.meta.kind === 'dist');
  const files = rows.map((f): JsonApiFile => {
    const m = f.meta as Record<string, string | boolean | null>;
    const project = f.path.split('/')[1];
    return {
      filename: f.filename,
      url: urlFor(project, f.filename),
      sha256: f.sha256,
      size: f.size,
      uploadTime: toIsoUtc(f.createdAt),
      requiresPython: (m.requiresPython as string | null) ?? null,
      coreMetadataSha256: (m.coreMetadataSha256 as string | null) ?? null,
      yanked: m.yanked === true,
      yankedReason: (m.yankedReason as string | null) ?? null,
      version: f.version ?? undefined,
      md5: (m.md5 as string | null) ?? null,
      packagetype: String(m.packagetype ?? ''),
      pythonVersion: String(m.pythonVersion ?? ''),
    };
  });
  return { files, rows };
}

/**
 * What renderProjectJsonApi needs for one project, answering for `selectedVersion` (absent:
 * the version pypi.org shows). Only the answered version's long description is read
 * (descriptions can be megabytes), so the selected version is given here, not added after.
 * Throws `notFound` when `selectedVersion` names no version.
 */
export async function jsonApiInput(ctx: RepoContext, packageId: number, displayName: string, urlFor?: typeof fileUrlFromPage, selectedVersion?: string): Promise<JsonApiInput> {
  const { files } = await projectFiles(ctx, packageId, urlFor);
  const rows = await ctx.store.listVersionsBrief(packageId);
  const versions = rows.map((v): JsonApiVersion => ({
    version: v.version,
    metadata: Object.keys(v.meta).length ? ({ fields: {}, ...v.meta } as unknown as CoreMetadata) : null,
    files: files.filter((f) => f.version === v.version),
  }));
  const input: JsonApiInput = { name: displayName, versions, ...(selectedVersion === undefined ? {} : { selectedVersion }) };
  const answered = answeredVersion(input);
  const id = answered?.metadata ? rows.find((v) => v.version === answered.version)?.id : undefined;
  const description = id === undefined ? null : await ctx.store.versionDescription(id);
  return { ...input, descriptionOf: (version) => (version === answered?.version ? description : null) };
}

export async function buildProjectDocuments(ctx: RepoContext, project: string): Promise<IndexDocument[]> {
  const pkg = await ctx.store.getPackage(ctx.repo.id, project);
  if (!pkg) return [];
  // From the database, not the per-process table: this build follows the change at once.
  const stored = await ctx.store.getPackageStatus(ctx.repo.id, project);
  const status = stored ? readStatus(stored.status, stored.reason) : ACTIVE;
  // PEP 792: a quarantined project lists no file (and no version) anywhere.
  const shown = offersFiles(status);
  const { files } = shown ? await projectFiles(ctx, pkg.id) : { files: [] };
  const versions = shown ? pageVersions(await ctx.store.listVersionNames(pkg.id)) : [];
  const page = { name: project, files, versions, status };
  // The JSON API sits two levels below the repository, like the simple pages.
  const input = await jsonApiInput(ctx, pkg.id, pkg.displayName, (p, f) => fileUrlFromPage(p, f));
  const api = renderProjectJsonApi(shown ? input : { ...input, versions: input.versions.map((v) => ({ ...v, files: [] })) });
  return [
    { key: projectKey(project, 'html'), contentType: contentTypeFor('html'), body: renderProjectHtml(page) },
    { key: projectKey(project, 'json'), contentType: contentTypeFor('json'), body: renderProjectJson(page) },
    { key: jsonApiKey(project), contentType: 'application/json', body: JSON.stringify(api) },
  ];
}

export async function buildRootDocuments(ctx: RepoContext): Promise<IndexDocument[]> {
  const projects = (await ctx.store.listPackages(ctx.repo.id)).map((p) => ({ name: p.displayName }));
  return [
    { key: rootKey('html'), contentType: contentTypeFor('html'), body: renderRootHtml(projects) },
    { key: rootKey('json'), contentType: contentTypeFor('json'), body: renderRootJson(projects) },
  ];
}
