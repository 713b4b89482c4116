// A repository's page: what it is, a group's members, and how each client uses it (the
// sections its format contributes, rendered here so a format never writes markup).
import type { SetupSection } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import { html } from './html.ts';

export interface RepositoryView {
  repo: Repository;
  url: string;
  /** The format's own answer at the repository URL (a files listing), for browsing. */
  browseUrl: string | null;
  /** A group's members in order, only those the viewer may read (others are not even counted). */
  members: { repo: Repository; url: string }[];
  sections: SetupSection[];
}

const sectionId = (title: string) => `setup-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

function section(s: SetupSection) {
  const id = sectionId(s.title);
  return html`<section aria-labelledby="${id}">
<h2 id="${id}">${s.title}</h2>
${s.steps.map((step) => html`<p>${step.text}</p>
${step.file ? html`<p class="file">File: <code>${step.file}</code></p>\n` : ''}${step.code !== undefined ? html`<pre><code>${step.code}</code></pre>\n` : ''}`)}
</section>
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
${members}
${v.sections.length ? html`<nav aria-label="Clients"><ul>${v.sections.map((s) => html`<li><a href="#${sectionId(s.title)}">${s.title}</a></li>`)}</ul></nav>\n` : ''}${v.sections.map(section)}`;
}
