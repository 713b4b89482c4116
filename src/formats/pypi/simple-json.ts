// PEP 691 simple pages in JSON (api-version 1.4: PEP 700 `versions`, `size`, `upload-time`;
// PEP 714 `core-metadata` beside the older `dist-info-metadata`; PEP 792 `project-status`).
import { pageVersions, REPOSITORY_API_VERSION, sortFiles, sortRootEntries, toIsoUtc, type SimpleFile, type SimpleProjectPage, type SimpleRootEntry } from './simple-types.ts';

export type { SimpleFile, SimpleProjectPage, SimpleRootEntry } from './simple-types.ts';

function fileJson(f: SimpleFile): Record<string, unknown> {
  const metadata = f.coreMetadataSha256 ? { sha256: f.coreMetadataSha256 } : false;
  const uploaded = toIsoUtc(f.uploadTime);
  return {
    filename: f.filename,
    url: f.url,
    hashes: f.sha256 ? { sha256: f.sha256 } : {},
    ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
    'core-metadata': metadata,
    'dist-info-metadata': metadata,
    yanked: f.yanked ? (f.yankedReason ? f.yankedReason : true) : false,
    size: f.size,
    // PEP 700: optional; left out rather than given as anything but a time.
    ...(uploaded ? { 'upload-time': uploaded } : {}),
  };
}

export function renderProjectJson(p: SimpleProjectPage): string {
  return JSON.stringify({
    meta: { 'api-version': REPOSITORY_API_VERSION },
    name: p.name,
    'project-status': { status: p.status?.status ?? 'active', ...(p.status?.reason ? { reason: p.status.reason } : {}) },
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
