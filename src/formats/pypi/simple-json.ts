// PEP 691 simple pages in JSON (api-version 1.1: PEP 700 `versions`, `size`,
// `upload-time`; PEP 714 `core-metadata` beside the older `dist-info-metadata`).
import { pageVersions, REPOSITORY_API_VERSION, sortFiles, sortRootEntries, toIsoUtc, type SimpleFile, type SimpleProjectPage, type SimpleRootEntry } from './simple-types.ts';

export type { SimpleFile, SimpleProjectPage, SimpleRootEntry } from './simple-types.ts';

function fileJson(f: SimpleFile): Record<string, unknown> {
  const metadata = f.coreMetadataSha256 ? { sha256: f.coreMetadataSha256 } : false;
  return {
    filename: f.filename,
    url: f.url,
    hashes: f.sha256 ? { sha256: f.sha256 } : {},
    ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
    'core-metadata': metadata,
    'dist-info-metadata': metadata,
    yanked: f.yanked ? (f.yankedReason ? f.yankedReason : true) : false,
    size: f.size,
    'upload-time': toIsoUtc(f.uploadTime),
  };
}

export function renderProjectJson(p: SimpleProjectPage): string {
  return JSON.stringify({
    meta: { 'api-version': REPOSITORY_API_VERSION },
    name: p.name,
    files: sortFiles(p.files).map(fileJson),
    versions: pageVersions(p.versions),
  });
}

export function renderRootJson(projects: SimpleRootEntry[]): string {
  return JSON.stringify({
    meta: { 'api-version': REPOSITORY_API_VERSION },
    projects: sortRootEntries(projects).map((e) => ({ name: e.name })),
  });
}
