// A repository's page: what it is and holds, its packages a page at a time, a proxy's cache
// state, a group's members, and how each client uses it (the sections its format
// contributes, rendered here so a format never writes markup).
import type { SetupSection } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import type { PackageListRow, ProxyState, RepoSummary } from '../../db/catalog.ts';
import { count, humanBytes, time } from './format.ts';
import { html, type Html } from './html.ts';
import { copyable } from './package.ts';

export const REPO_PAGE_SIZE = 50;
export type PackageSort = 'name' | 'updated';

/** One page of packages: of the repository, or for a group of its readable members one after another. */
export interface PackagesView {
  sort: PackageSort;
  page: number;
  total: number;
  rows: (PackageListRow & { repo: Repository; url: string })[];
  /** The URL of another page or order of this list. */
  pageUrl(page: number, sort: PackageSort): string;
}

export interface RepositoryView {
  repo: Repository;
  url: string;
  /** The format's own answer at the repository URL (a files listing), for browsing. */
  browseUrl: string | null;
  /** A group's members in order, only those the viewer may read (others are not even counted). */
  members: { repo: Repository; url: string }[];
  sections: SetupSection[];
  summary: RepoSummary | null;
  /** Null for formats without packages (plain files). */
  packages: PackagesView | null;
  /** For a proxy: its upstream (without credentials) and what is cached. */
  proxy: { upstream: string; state: ProxyState; offline: boolean } | null;
}

const sectionId = (title: string) => `setup-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

function section(s: SetupSection) {
  const id = sectionId(s.title);
  return html`<section aria-labelledby="${id}">
<h2 id="${id}">${s.title}</h2>
${s.steps.map((step) => html`<p>${step.text}</p>
${step.file ? html`<p class="file">File: <code>${step.file}</code></p>\n` : ''}${step.code !== undefined ? html`${copyable(step.file ? `${step.file} for ${s.title}` : `${s.title} command`, step.code)}\n` : ''}`)}
</section>
`;
}

function packagesSection(repo: Repository, p: PackagesView): Html {
  const lastPage = Math.max(1, Math.ceil(p.total / REPO_PAGE_SIZE));
  const group = repo.kind === 'group';
  const sortLink = (sort: PackageSort, label: string) => (p.sort === sort ? html`<strong aria-current="true">${label}</strong>` : html`<a href="${p.pageUrl(1, sort)}">${label}</a>`);
  const from = (p.page - 1) * REPO_PAGE_SIZE;
  return html`<h2 id="packages">Packages</h2>
${group ? html`<p class="muted">A group holds no packages of its own: these are its members' that you may read, member after member in the group's order${p.sort === 'name' ? ', by name within each' : ', newest change first within each'}. A name in an earlier member hides it in later ones.</p>\n` : ''}<p>${count(p.total, 'package')}${p.total > 0 ? html` · sorted ${sortLink('name', 'by name')} or ${sortLink('updated', 'by last upload')}` : ''}</p>
${p.rows.length === 0 ? (p.total > 0 ? html`<p class="muted">No packages on page ${p.page}.</p>` : '') : html`<table>
<caption>Packages ${from + 1}–${from + p.rows.length} of ${p.total.toLocaleString('en-US')}${group ? '' : ` in ${repo.name}`}</caption>
<thead><tr><th scope="col">Package</th><th scope="col">Summary</th>${group ? html`<th scope="col">Member</th>` : ''}<th scope="col">Last upload</th></tr></thead>
<tbody>
${p.rows.map((r) => html`<tr><th scope="row"><a href="${r.url}">${r.displayName}</a></th><td>${r.summary}</td>${group ? html`<td>${r.repo.name}</td>` : ''}<td>${time(r.updatedAt)}</td></tr>\n`)}</tbody>
</table>`}
${lastPage > 1 ? html`<nav class="pager" aria-label="Package pages">
${p.page > 1 ? html`<a href="${p.pageUrl(p.page - 1, p.sort)}" rel="prev">Previous</a>` : ''}
<span>Page ${p.page} of ${lastPage}</span>
${p.page < lastPage ? html`<a href="${p.pageUrl(p.page + 1, p.sort)}" rel="next">Next</a>` : ''}
</nav>` : ''}`;
}

function proxySection(v: NonNullable<RepositoryView['proxy']>, summary: RepoSummary | null): Html {
  return html`<h2 id="cache">Upstream and cache</h2>
<dl class="fields">
<dt>Upstream</dt><dd><code>${v.upstream}</code>${v.offline ? html` <span class="badge warn">offline: never contacted</span>` : ''}</dd>
<dt>Upstream last reached</dt><dd>${v.state.lastUpstreamContact ? time(v.state.lastUpstreamContact) : 'never'}</dd>
<dt>Cached</dt><dd>${count(v.state.cachedDocuments, 'index document')}, ${count(summary?.packages ?? 0, 'package')}, ${count(summary?.files ?? 0, 'file')} (${humanBytes(summary?.bytes ?? 0)})</dd>
</dl>
`;
}

export function repositoryBody(v: RepositoryView) {
  const { repo } = v;
  const members = repo.kind !== 'group' ? '' : html`<h2 id="members">Members</h2>
<p class="muted">Content comes from the first member that has it.</p>
<ol aria-labelledby="members">
${v.members.map((m) => html`<li><a href="${m.url}">${m.repo.name}</a> <span class="badge">${m.repo.kind}</span></li>\n`)}</ol>
`;
  return html`<h1>${repo.name}</h1>
<p><span class="badge">${repo.format}</span><span class="badge">${repo.kind}</span><span class="badge">${repo.publicRead ? 'public' : 'private'}</span></p>
<p>URL: <code>${v.url}</code>${v.browseUrl ? html` · <a href="${v.browseUrl}">browse the files</a>` : ''}</p>
${repo.kind !== 'group' && v.summary ? html`<p class="muted">${count(v.summary.packages, 'package')} · ${count(v.summary.files, 'file')} · ${humanBytes(v.summary.bytes)} · last change ${time(v.summary.lastChange)}</p>\n` : ''}${v.proxy ? proxySection(v.proxy, v.summary) : ''}${members}
${v.packages ? packagesSection(repo, v.packages) : ''}
${v.sections.length ? html`<nav aria-label="Clients"><ul>${v.sections.map((s) => html`<li><a href="#${sectionId(s.title)}">${s.title}</a></li>`)}</ul></nav>\n` : ''}${v.sections.map(section)}`;
}
