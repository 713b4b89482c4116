// PEP 503 simple pages in HTML, with the attributes of PEP 592 (yanked), 629
// (repository version), 658/714 (core metadata), data-requires-python (PEP 503), PEP 792's
// project status in <meta> tags, and data-upload-time (PEP 700's time, which PEP 700 gives
// only in JSON; uv and newer pip read it from HTML too).
import { normalizeName } from './names.ts';
import type { ProjectStatus } from './project-status.ts';
import { REPOSITORY_API_VERSION, sortFiles, sortRootEntries, toIsoUtc, type SimpleFile, type SimpleProjectPage, type SimpleRootEntry } from './simple-types.ts';

export type { SimpleFile, SimpleProjectPage, SimpleRootEntry } from './simple-types.ts';

/** Escape text and attribute values (always double-quoted here). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** PEP 792: active is the default and goes unsaid. */
function statusMeta(status: ProjectStatus | undefined): string[] {
  if (!status || status.status === 'active') return [];
  const out = [`    <meta name="pypi:project-status" content="${escapeHtml(status.status)}">`];
  if (status.reason) out.push(`    <meta name="pypi:project-status-reason" content="${escapeHtml(status.reason)}">`);
  return out;
}

function page(title: string, links: string[], status?: ProjectStatus): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    `    <meta name="pypi:repository-version" content="${REPOSITORY_API_VERSION}">`,
    ...statusMeta(status),
    `    <title>${escapeHtml(title)}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapeHtml(title)}</h1>`,
    ...links.map((l) => `    ${l}`),
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

function fileAnchor(f: SimpleFile): string {
  // A proxied file whose upstream gave no hash is listed without a fragment.
  const attrs = [`href="${escapeHtml(f.sha256 ? `${f.url}#sha256=${f.sha256}` : f.url)}"`];
  if (f.requiresPython) attrs.push(`data-requires-python="${escapeHtml(f.requiresPython)}"`);
  if (f.coreMetadataSha256) {
    // PEP 714 renamed the attribute; pip before 23.3 only reads the old name.
    const v = escapeHtml(`sha256=${f.coreMetadataSha256}`);
    attrs.push(`data-dist-info-metadata="${v}"`, `data-core-metadata="${v}"`);
  }
  // An empty value still marks the file yanked (pip reads an attribute without a value as not yanked).
  if (f.yanked) attrs.push(`data-yanked="${escapeHtml(f.yankedReason ?? '')}"`);
  const uploaded = toIsoUtc(f.uploadTime);
  if (uploaded) attrs.push(`data-upload-time="${uploaded}"`);
  return `<a ${attrs.join(' ')}>${escapeHtml(f.filename)}</a><br />`;
}

export function renderProjectHtml(p: SimpleProjectPage): string {
  return page(`Links for ${p.name}`, sortFiles(p.files).map(fileAnchor), p.status);
}

export function renderRootHtml(projects: SimpleRootEntry[]): string {
  return page('Simple index', sortRootEntries(projects).map((e) => `<a href="${escapeHtml(normalizeName(e.name))}/">${escapeHtml(e.name)}</a><br />`));
}
