// A package's page: what its format's packageView says (plain data), rendered here; the
// description through markdown.ts; links only when they are http(s). Never names a format.
import type { PackageBadge, PackageView, PackageViewVersion } from '../../core/format-plugin.ts';
import type { PackageRow, Repository } from '../../core/model.ts';
import { count, humanBytes, time } from './format.ts';
import { html, type Html } from './html.ts';
import { allowedUrl, renderDescription } from './markdown.ts';

export interface PackagePageView {
  pkg: PackageRow;
  /** The repository the viewer asked through (a group, or the one holding the package). */
  repo: Repository;
  repoPath: string;
  /** For a group: the member that holds the package. */
  member: { repo: Repository; path: string } | null;
  view: PackageView;
  /** A version asked for by `?version=`, shown in full even when it is not among the newest. */
  selected: string | null;
}

/** Versions shown in full (files, fields, install); older ones are a row each in the table. */
export const DETAILED_VERSIONS = 10;

export const badges = (list: PackageBadge[]) => list.map((b) => html`<span class="badge${b.tone ? ` ${b.tone}` : ''}">${b.text}</span>`);

/** A command or text to copy, with a copy button added by the script. */
export const copyable = (what: string, code: string) => html`<div class="copyable"><pre data-copy="${what}"><code>${code}</code></pre></div>`;

const anchor = (version: string) => `v-${version}`;

function fieldValue(v: string | string[]): Html | string {
  if (typeof v === 'string') return v;
  return html`<ul>${v.map((x) => html`<li>${x}</li>`)}</ul>`;
}

function versionSection(pkg: PackageRow, v: PackageViewVersion): Html {
  const id = anchor(v.version);
  return html`<section class="version" id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h">${pkg.displayName} ${v.version} ${badges(v.badges)}</h3>
${v.install.map((i) => html`<p>${i.text}</p>\n${copyable(`install command for ${pkg.displayName} ${v.version}`, i.code)}\n`)}
${v.fields.length ? html`<dl class="fields">${v.fields.map(([label, value]) => html`<dt>${label}</dt><dd>${fieldValue(value)}</dd>`)}</dl>\n` : ''}
${v.files.length === 0 ? html`<p class="muted">No files.</p>` : html`<table>
<caption>Files of ${pkg.displayName} ${v.version}</caption>
<thead><tr><th scope="col">File</th><th scope="col" class="num">Size</th><th scope="col">SHA-256</th><th scope="col">Uploaded</th><th scope="col">By</th></tr></thead>
<tbody>
${v.files.map((f) => html`<tr><th scope="row"><a href="${f.url}">${f.filename}</a> ${badges(f.badges)}${f.note ? html`<br><span class="muted">${f.note}</span>` : ''}</th><td class="num">${humanBytes(f.size)}</td><td><code class="hash" data-copy="SHA-256 of ${f.filename}">${f.sha256}</code></td><td>${time(f.uploadedAt)}</td><td>${f.uploadedBy ?? html`<span class="muted">—</span>`}</td></tr>\n`)}</tbody>
</table>`}
</section>
`;
}

export function packageBody(p: PackagePageView): Html {
  const { pkg, view } = p;
  const links = view.links.filter((l) => /^https?:\/\//i.test(l.url.trim()) && allowedUrl(l.url));
  const newest = view.versions[0];
  const detailed = view.versions.filter((v, i) => i < DETAILED_VERSIONS || v.version === p.selected);
  const shown = new Set(detailed.map((v) => v.version));
  const versionLink = (v: string) => (shown.has(v) ? `#${anchor(v)}` : `?${new URLSearchParams({ version: v }).toString()}#${anchor(v)}`);
  return html`<h1>${pkg.displayName}</h1>
${view.summary ? html`<p class="summary">${view.summary}</p>\n` : ''}<p><span class="badge">${p.repo.format}</span> in <a href="${p.repoPath}">${p.repo.name}</a>${p.member ? html` (from its member <a href="${p.member.path}">${p.member.repo.name}</a>)` : ''} · ${count(view.versions.length, 'version')}</p>
${links.length ? html`<ul class="links">${links.map((l) => html`<li><a href="${l.url}" rel="nofollow noopener noreferrer">${l.label}</a></li>`)}</ul>\n` : ''}${newest && newest.install.length ? html`<h2 id="install">Install</h2>
${newest.install.slice(0, 1).map((i) => html`<p>${i.text}</p>\n${copyable(`install command for ${pkg.displayName} ${newest.version}`, i.code)}\n`)}` : ''}${view.description ? html`<h2 id="description">Description</h2>
${renderDescription(view.description)}
` : ''}<h2 id="versions">Versions</h2>
<table>
<caption>${count(view.versions.length, 'version')} of ${pkg.displayName}, newest first</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col" class="num">Files</th><th scope="col">Uploaded</th></tr></thead>
<tbody>
${view.versions.map((v) => html`<tr><th scope="row"><a href="${versionLink(v.version)}">${v.version}</a></th><td>${badges(v.badges)}</td><td class="num">${v.files.length}</td><td>${time(v.files.map((f) => f.uploadedAt).sort().at(-1))}</td></tr>\n`)}</tbody>
</table>
${view.versions.length > detailed.length ? html`<p class="muted">The newest ${DETAILED_VERSIONS} versions are shown in full below; pick an older one in the table to see its files.</p>
` : ''}${detailed.map((v) => versionSection(pkg, v))}`;
}
