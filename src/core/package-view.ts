// Pieces every format's package view shares: a stored file as a page lists it.
import type { PackageBadge, PackageSite, PackageViewFile } from './format-plugin.ts';
import type { FileRow } from './model.ts';

/** A file's download URL below a repository URL, each path segment encoded. */
export function fileUrl(base: string, path: string): string {
  return base + path.split('/').map(encodeURIComponent).join('/');
}

/** A stored file as a package page lists it. */
export function viewFile(f: FileRow, site: PackageSite, badges: PackageBadge[] = [], note?: string): PackageViewFile {
  const cached = typeof f.meta.upstreamUrl === 'string';
  return {
    filename: f.filename,
    url: fileUrl(site.filesUrl, f.path),
    size: f.size,
    sha256: f.sha256,
    uploadedAt: f.createdAt,
    uploadedBy: f.uploadedBy,
    badges: cached ? [...badges, { text: 'cached from upstream' }] : badges,
    ...(note ? { note } : {}),
  };
}
