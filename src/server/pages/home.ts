// The home page: the repositories this viewer may read, each with its format, kind, package
// count, size and last change; a search box; the server's version (in the footer too).
import type { Repository } from '../../core/model.ts';
import type { RepoSummary } from '../../db/catalog.ts';
import { count, humanBytes, time } from './format.ts';
import { html } from './html.ts';
import { searchForm, type SearchFormView } from './search.ts';

export interface HomeRow {
  repo: Repository;
  url: string;
  /** A page of its own with the set-up, when the repository URL is the format's (a files listing). */
  setupUrl: string | null;
  summary: RepoSummary | null;
  /** For a group: how many members this viewer may read. */
  members: number | null;
}

function packagesCell(r: HomeRow) {
  if (r.members !== null) return html`<span class="muted">${count(r.members, 'member')}</span>`;
  return (r.summary?.packages ?? 0).toLocaleString('en-US');
}

export function homeBody(rows: HomeRow[], search: SearchFormView, version: string) {
  const intro = html`<h1>Repositories</h1>
<p class="muted">Wharf ${version} · ${count(rows.length, 'repository', 'repositories')} you may read.</p>
${searchForm(search)}`;
  if (rows.length === 0) {
    return html`${intro}
<p class="muted">There are no repositories you may read. Private repositories appear once you sign in.</p>`;
  }
  return html`${intro}
<table>
<caption>Repositories you may read</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Format</th><th scope="col">Kind</th><th scope="col">Access</th><th scope="col" class="num">Packages</th><th scope="col" class="num">Size</th><th scope="col">Last change</th></tr></thead>
<tbody>
${rows.map((r) => html`<tr><th scope="row"><a href="${r.url}">${r.repo.name}</a>${r.setupUrl ? html` · <a href="${r.setupUrl}">set-up</a>` : ''}</th><td>${r.repo.format}</td><td>${r.repo.kind}</td><td>${r.repo.publicRead ? 'public' : 'private'}</td><td class="num">${packagesCell(r)}</td><td class="num">${r.members !== null ? '—' : humanBytes(r.summary?.bytes ?? 0)}</td><td>${r.members !== null ? '—' : time(r.summary?.lastChange)}</td></tr>\n`)}
</tbody>
</table>`;
}
