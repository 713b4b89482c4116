// The home page: the repositories this viewer may read, each with its format and kind.
import type { Repository } from '../../core/model.ts';
import { html } from './html.ts';

export interface HomeRow {
  repo: Repository;
  url: string;
  /** A page of its own with the set-up, when the repository URL is the format's (a files listing). */
  setupUrl: string | null;
}

export function homeBody(rows: HomeRow[]) {
  if (rows.length === 0) {
    return html`<h1>Repositories</h1>
<p class="muted">There are no repositories you may read. Private repositories appear once you sign in.</p>`;
  }
  return html`<h1>Repositories</h1>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Format</th><th scope="col">Kind</th><th scope="col">Access</th></tr></thead>
<tbody>
${rows.map((r) => html`<tr><td><a href="${r.url}">${r.repo.name}</a>${r.setupUrl ? html` · <a href="${r.setupUrl}">set-up</a>` : ''}</td><td>${r.repo.format}</td><td>${r.repo.kind}</td><td>${r.repo.publicRead ? 'public' : 'private'}</td></tr>\n`)}
</tbody>
</table>`;
}
