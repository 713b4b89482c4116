// Search across the repositories a viewer may read, by name and summary (the catalog's FTS5
// index; names are split on punctuation there, so Foo_Bar, foo-bar and foo.bar match), with
// format and repository filters. Groups hold no packages of their own: they are not searched
// as such, but choosing one in the repository filter searches its readable members. A
// repository the viewer may not read is never searched, counted or offered as a filter, and
// naming it in `repo=` answers exactly as a name that does not exist.
import type { Repository } from '../../core/model.ts';
import type { Catalog } from '../../db/catalog.ts';
import { SEARCH_COUNT_CAP } from '../../db/catalog.ts';
import { count, time } from './format.ts';
import { html, type Html } from './html.ts';
import { SEARCH_PATH } from './layout.ts';

export const SEARCH_PAGE_SIZE = 20;
/** Longer queries are cut (the catalog uses eight words at most anyway). */
const MAX_QUERY = 200;

export interface SearchParams {
  q: string;
  format: string;
  repo: string;
  page: number;
}

export interface SearchFormView {
  params: SearchParams;
  /** Formats among the searchable repositories, for the filter. */
  formats: string[];
  /** Repositories the filter offers: the searchable ones and readable groups. */
  repos: Repository[];
}

export interface SearchResult {
  name: string;
  displayName: string;
  summary: string;
  repo: string;
  format: string;
  updatedAt: string;
  url: string;
}

export interface SearchAnswer {
  query: string;
  total: number;
  /** `total` stopped counting at the cap: there are at least this many. */
  totalCapped: boolean;
  page: number;
  pageSize: number;
  results: SearchResult[];
  /** The HTML page of these results. */
  pageUrl: string;
}

export function parseSearchParams(query: Record<string, unknown>): SearchParams {
  const one = (name: string) => {
    const v = query[name];
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === 'string' ? s : '';
  };
  const page = Number.parseInt(one('page'), 10);
  // No page past the counted results: deep offsets cost without showing anything new.
  const lastPage = Math.ceil(SEARCH_COUNT_CAP / SEARCH_PAGE_SIZE);
  return { q: one('q').slice(0, MAX_QUERY), format: one('format'), repo: one('repo'), page: Number.isFinite(page) && page >= 1 ? Math.min(page, lastPage) : 1 };
}

export function searchUrl(p: Partial<SearchParams>): string {
  const u = new URLSearchParams();
  if (p.q) u.set('q', p.q);
  if (p.format) u.set('format', p.format);
  if (p.repo) u.set('repo', p.repo);
  if (p.page && p.page > 1) u.set('page', String(p.page));
  const s = u.toString();
  return s ? `${SEARCH_PATH}?${s}` : SEARCH_PATH;
}

/**
 * The repositories a search covers: `searchable` (readable, holding packages), narrowed by the
 * filters; a group in `repo` stands for its readable members (`membersOf`).
 */
export function searchScope(p: SearchParams, searchable: Repository[], readableGroups: Repository[], membersOf: (g: Repository) => Repository[]): Repository[] {
  let scope = searchable;
  if (p.repo) {
    const group = readableGroups.find((g) => g.name === p.repo);
    const names = new Set(group ? membersOf(group).map((m) => m.name) : [p.repo]);
    scope = scope.filter((r) => names.has(r.name));
  }
  if (p.format) scope = scope.filter((r) => r.format === p.format);
  return scope;
}

export async function runSearch(catalog: Catalog, p: SearchParams, scope: Repository[], packagePath: (repo: Repository, name: string) => string): Promise<SearchAnswer> {
  const byId = new Map(scope.map((r) => [r.id, r]));
  const { total, rows } = p.q.trim() === ''
    ? { total: 0, rows: [] }
    : await catalog.search(p.q, { repoIds: [...byId.keys()], offset: (p.page - 1) * SEARCH_PAGE_SIZE, limit: SEARCH_PAGE_SIZE });
  return {
    query: p.q,
    total,
    totalCapped: total >= SEARCH_COUNT_CAP,
    page: p.page,
    pageSize: SEARCH_PAGE_SIZE,
    results: rows.map((r) => {
      const repo = byId.get(r.repoId)!;
      return { name: r.name, displayName: r.displayName, summary: r.summary, repo: repo.name, format: repo.format, updatedAt: r.updatedAt, url: packagePath(repo, r.name) };
    }),
    pageUrl: searchUrl(p),
  };
}

const option = (value: string, label: string, selected: string) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

/** The search form: a plain GET that works without the script, which adds search as you type. */
export function searchForm(v: SearchFormView): Html {
  const p = v.params;
  return html`<form role="search" aria-label="Package search" action="${SEARCH_PATH}" method="get" data-suggest>
<label for="q">Search packages by name or summary</label>
<input type="search" id="q" name="q" value="${p.q}" placeholder="e.g. requests, libfoo">
<div class="filters">
<label for="format">Format</label>
<select id="format" name="format">${option('', 'any', p.format)}${v.formats.map((f) => option(f, f, p.format))}</select>
<label for="repo">Repository</label>
<select id="repo" name="repo">${option('', 'any', p.repo)}${v.repos.map((r) => option(r.name, r.kind === 'group' ? `${r.name} (group: its members)` : r.name, p.repo))}</select>
<button type="submit">Search</button>
</div>
</form>`;
}

export function searchBody(v: SearchFormView, a: SearchAnswer | null): Html {
  const form = html`<h1>Search</h1>
${searchForm(v)}`;
  if (!a || a.query.trim() === '') return html`${form}<p class="muted">Names match whole words or their starts, whatever the punctuation: foo_bar, foo-bar and foo.bar are the same words.</p>`;
  const totalText = `${a.totalCapped ? `${a.total.toLocaleString('en-US')}+` : a.total.toLocaleString('en-US')} ${a.total === 1 ? 'package' : 'packages'}`;
  const lastPage = Math.max(1, Math.ceil(a.total / a.pageSize));
  const pager = lastPage <= 1 ? '' : html`<nav class="pager" aria-label="Result pages">
${a.page > 1 ? html`<a href="${searchUrl({ ...v.params, page: a.page - 1 })}" rel="prev">Previous</a>` : ''}
<span>Page ${a.page} of ${lastPage}${a.totalCapped ? '+' : ''}</span>
${a.page < lastPage ? html`<a href="${searchUrl({ ...v.params, page: a.page + 1 })}" rel="next">Next</a>` : ''}
</nav>`;
  if (a.results.length === 0) return html`${form}<p role="status">No packages match “${a.query}”${a.page > 1 ? ` on page ${a.page}` : ''}.</p>`;
  return html`${form}
<p role="status">${totalText} ${a.total === 1 && !a.totalCapped ? 'matches' : 'match'} “${a.query}”.</p>
<table>
<caption>Search results for “${a.query}”, page ${a.page}</caption>
<thead><tr><th scope="col">Package</th><th scope="col">Summary</th><th scope="col">Repository</th><th scope="col">Format</th><th scope="col">Updated</th></tr></thead>
<tbody>
${a.results.map((r) => html`<tr><th scope="row"><a href="${r.url}">${r.displayName}</a></th><td>${r.summary}</td><td>${r.repo}</td><td>${r.format}</td><td>${time(r.updatedAt)}</td></tr>\n`)}</tbody>
</table>
${pager}`;
}

