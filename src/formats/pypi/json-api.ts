// PyPI's JSON API (`/pypi/<project>/json` and `/pypi/<project>/<version>/json`),
// in the shape pypi.org answers, which tools like poetry and pip-audit read.
import { notFound } from '../../core/errors.ts';
import type { CoreMetadata } from './core-metadata.ts';
import { sortFiles, toIsoUtc, type SimpleFile } from './simple-types.ts';
import { compareVersions, isPrerelease, normalizeVersion, sortVersions } from './version.ts';

export type JsonApiFile = SimpleFile & { md5: string | null; packagetype: string; pythonVersion: string };

export interface JsonApiVersion {
  version: string;
  metadata: CoreMetadata | null;
  files: JsonApiFile[];
}

export interface JsonApiInput {
  /** Project name (display); the metadata's Name wins when present. */
  name: string;
  versions: JsonApiVersion[];
  /** Answer for this version (`/pypi/<project>/<version>/json`); releases are then omitted. */
  selectedVersion?: string;
  /**
   * The long description of a version, when `versions` carry metadata without it: only the
   * answered version's is shown, so only that one is read (descriptions can be megabytes).
   */
  descriptionOf?(version: string): string | null;
}

/** A release is yanked when it has files and all of them are yanked (as PEP 592 reads it). */
function isYankedRelease(v: JsonApiVersion): boolean {
  return v.files.length > 0 && v.files.every((f) => f.yanked);
}

/** The version pypi.org shows: newest non-yanked final release, else newest non-yanked, else newest. */
export function latestVersion(versions: readonly JsonApiVersion[]): JsonApiVersion | undefined {
  const newest = (vs: JsonApiVersion[]) => vs.reduce<JsonApiVersion | undefined>((best, v) => (!best || compareVersions(v.version, best.version) > 0 ? v : best), undefined);
  const live = versions.filter((v) => !isYankedRelease(v));
  return newest(live.filter((v) => !isPrerelease(v.version))) ?? newest(live) ?? newest([...versions]);
}

function fileJson(f: JsonApiFile): Record<string, unknown> {
  const iso = toIsoUtc(f.uploadTime);
  return {
    comment_text: '',
    digests: { blake2b_256: null, md5: f.md5, sha256: f.sha256 },
    downloads: -1,
    filename: f.filename,
    has_sig: false,
    md5_digest: f.md5,
    packagetype: f.packagetype,
    python_version: f.pythonVersion,
    requires_python: f.requiresPython,
    size: f.size,
    upload_time: iso.slice(0, 19),
    upload_time_iso_8601: iso,
    url: f.url,
    yanked: f.yanked,
    yanked_reason: f.yanked ? f.yankedReason : null,
  };
}

function infoJson(name: string, v: JsonApiVersion | undefined): Record<string, unknown> {
  const m = v?.metadata ?? null;
  const projectUrls: Record<string, string> = {};
  if (m?.homePage) projectUrls.Homepage = m.homePage;
  if (m?.downloadUrl) projectUrls.Download = m.downloadUrl;
  Object.assign(projectUrls, m?.projectUrls ?? {});
  const yanked = v ? isYankedRelease(v) : false;
  return {
    author: m?.author ?? null,
    author_email: m?.authorEmail ?? null,
    bugtrack_url: null,
    classifiers: m?.classifiers ?? [],
    description: m?.description ?? null,
    description_content_type: m?.descriptionContentType ?? null,
    docs_url: null,
    download_url: m?.downloadUrl ?? null,
    downloads: { last_day: -1, last_month: -1, last_week: -1 },
    dynamic: m && m.dynamic.length > 0 ? m.dynamic : null,
    home_page: m?.homePage ?? null,
    keywords: m?.keywords ?? null,
    license: m?.license ?? null,
    license_expression: m?.licenseExpression ?? null,
    license_files: m && m.licenseFiles.length > 0 ? m.licenseFiles : null,
    maintainer: m?.maintainer ?? null,
    maintainer_email: m?.maintainerEmail ?? null,
    name: m?.name ?? name,
    platform: m && m.platforms.length > 0 ? m.platforms.join(', ') : null,
    project_urls: Object.keys(projectUrls).length > 0 ? projectUrls : null,
    provides_extra: m && m.providesExtra.length > 0 ? m.providesExtra : null,
    requires_dist: m && m.requiresDist.length > 0 ? m.requiresDist : null,
    requires_python: m?.requiresPython ?? null,
    summary: m?.summary ?? null,
    version: v?.version ?? null,
    yanked,
    yanked_reason: yanked ? (v!.files.find((f) => f.yankedReason)?.yankedReason ?? null) : null,
  };
}

/**
 * The version a JSON API document answers for: `selectedVersion`, or the one pypi.org shows.
 * Throws `notFound` when `selectedVersion` names no version (compared in PEP 440 canonical form).
 */
export function answeredVersion(input: Pick<JsonApiInput, 'name' | 'versions' | 'selectedVersion'>): JsonApiVersion | undefined {
  if (input.selectedVersion === undefined) return latestVersion(input.versions);
  const want = normalizeVersion(input.selectedVersion) ?? input.selectedVersion;
  const selected = input.versions.find((v) => (normalizeVersion(v.version) ?? v.version) === want);
  if (!selected) throw notFound(`${input.name} has no version ${input.selectedVersion}`);
  return selected;
}

/**
 * The JSON API document. Throws `notFound` when `selectedVersion` names no
 * version (compared in PEP 440 canonical form).
 */
export function renderProjectJsonApi(input: JsonApiInput): object {
  let selected = answeredVersion(input);
  if (selected?.metadata && input.descriptionOf) {
    const description = input.descriptionOf(selected.version) ?? undefined;
    selected = { ...selected, metadata: { ...selected.metadata, description } };
  }
  const doc: Record<string, unknown> = {
    info: infoJson(input.name, selected),
    last_serial: 0,
  };
  if (input.selectedVersion === undefined) {
    const releases: Record<string, unknown[]> = {};
    const byVersion = new Map(input.versions.map((v) => [v.version, v]));
    for (const version of sortVersions([...byVersion.keys()])) releases[version] = sortFiles(byVersion.get(version)!.files).map(fileJson);
    doc.releases = releases;
  }
  doc.urls = selected ? sortFiles(selected.files).map(fileJson) : [];
  doc.vulnerabilities = [];
  return doc;
}
