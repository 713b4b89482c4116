// Pages for people, where package clients get their protocol answers: `/` lists the
// repositories the viewer may read, `/<repo>/` shows a repository, its packages and how each
// client uses it, `/-/package/<repo>/<name>` a package, `/-/search` searches. A request gets a
// page at `/` and `/<repo>/` when its Accept is a browser's (negotiate.ts); for a format that
// answers `/<repo>/` itself (a files listing), the page is at `/<repo>/?setup`. Permission for
// `/<repo>/` is checked by the caller (repo-router) exactly as for the format's own routes;
// the `/-/` pages check it here, and answer a repository the viewer may not read exactly as
// one that does not exist.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { can, type Principal } from '../../core/auth/principal.ts';
import { unauthorized } from '../../core/errors.ts';
import { groupOptionsOf } from '../../core/group.ts';
import type { FormatPlugin, PackageView } from '../../core/format-plugin.ts';
import type { PackageRow, Permission, Repository } from '../../core/model.ts';
import type { RepoSummary } from '../../db/catalog.ts';
import { proxyOptionsOf } from '../../core/proxy/options.ts';
import type { Wharf } from '../../core/wharf.ts';
import { homeBody } from './home.ts';
import { html, type Html } from './html.ts';
import { layout, SEARCH_PATH } from './layout.ts';
import { wantsPage } from './negotiate.ts';
import { packageBody } from './package.ts';
import { REPO_PAGE_SIZE, repositoryBody, type PackageSort, type PackagesView } from './repository.ts';
import { parseSearchParams, runSearch, searchBody, searchScope, type SearchFormView } from './search.ts';
import { sendJson, sendPage } from './send.ts';
import { viewerOf } from './session.ts';
import { siteFor, type Site } from './site.ts';
import { sendStatic, STATIC_PREFIX } from './static.ts';

/**
 * The pages as a route table (for the authorization matrix and the docs): `page` is how a
 * request asks for one (a browser's Accept, a query, or a URL of its own), `access` what the
 * viewer needs.
 */
export const PAGE_ROUTES: { path: string; page: 'accept' | 'query' | 'path'; access: Permission | 'anyone' | 'session' | 'admin-session' }[] = [
  { path: '/', page: 'accept', access: 'anyone' },
  { path: '/?login', page: 'query', access: 'anyone' },
  { path: '/:repo/', page: 'accept', access: 'read' },
  { path: '/:repo/?setup', page: 'query', access: 'read' },
  // Pages of their own URL. A package page answers 404 to a viewer who may not read its repository.
  { path: '/-/package/:repo/:name', page: 'path', access: 'read' },
  { path: '/-/search', page: 'path', access: 'anyone' },
  { path: '/-/search.json', page: 'path', access: 'anyone' },
  // account.ts, admin.ts: `session` is a browser signed in through the form; `admin-session`
  // a server administrator's (anyone else: 404).
  { path: '/-/login', page: 'path', access: 'anyone' },
  { path: '/-/tokens', page: 'path', access: 'session' },
  { path: '/-/admin/repositories', page: 'path', access: 'admin-session' },
  { path: '/-/admin/users', page: 'path', access: 'admin-session' },
  { path: '/-/admin/audit', page: 'path', access: 'admin-session' },
];

const hasQuery = (req: FastifyRequest, name: string) => Object.hasOwn((req.query ?? {}) as object, name);
const queryOf = (req: FastifyRequest) => (req.query ?? {}) as Record<string, unknown>;

/** Whether a format answers GET on the repository's root itself (then its answer stays). */
function servesRoot(plugin: FormatPlugin): boolean {
  const router = FindMyWay();
  for (const r of plugin.routes) if (r.method === 'GET') router.on('GET', r.path, () => {});
  return router.find('GET', '/') !== null;
}

/** JSON for search as you type: asked for by URL, or by an Accept that prefers JSON to HTML. */
function wantsJson(req: FastifyRequest): boolean {
  if (req.url.startsWith(`${SEARCH_PATH}.json`)) return true;
  const accept = req.headers.accept ?? '';
  return /application\/json/i.test(accept) && !wantsPage(accept);
}

export interface Pages {
  /** Whether a GET or HEAD of `/` is for the home page. */
  wantsHome(req: FastifyRequest): boolean;
  /** Whether a GET or HEAD of `/<repo>/` is for the repository's page. */
  wantsRepository(req: FastifyRequest, repo: Repository): boolean;
  home(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  /** The caller has checked that the viewer may read `repo`. */
  repository(req: FastifyRequest, reply: FastifyReply, repo: Repository): Promise<FastifyReply>;
  /** The pages below `/-/`: packages, search, static files. */
  register(app: FastifyInstance): void;
}

export function createPages(wharf: Wharf, plugins: FormatPlugin[], version: string): Pages {
  const rootTaken = new Map(plugins.map((p) => [p.format, servesRoot(p)]));
  const pluginByFormat = new Map(plugins.map((p) => [p.format, p]));
  const hasPackages = (repo: Repository) => pluginByFormat.get(repo.format)?.packageView !== undefined;
  const frame = (req: FastifyRequest, title: string, body: Html, query?: string) =>
    layout({ title, viewer: viewerOf(req), version, home: '/', body, query });
  const packagePath = (repo: Pick<Repository, 'name'>, name: string) => `/-/package/${encodeURIComponent(repo.name)}/${encodeURIComponent(name)}`;
  const readable = (principal: Principal) => wharf.listRepos().filter((r) => can(principal, r, 'read'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  function searchForm(req: FastifyRequest, params = parseSearchParams({})): SearchFormView {
    const repos = readable(req.principal);
    const searchable = repos.filter((r) => r.kind !== 'group' && hasPackages(r));
    const groups = repos.filter((r) => r.kind === 'group' && hasPackages(r));
    return { params, formats: [...new Set(searchable.map((r) => r.format))].sort(), repos: [...searchable, ...groups].sort((a, b) => (a.name < b.name ? -1 : 1)) };
  }

  /** One page of a repository's packages; for a group, its readable members' one after another. */
  async function packagesOf(req: FastifyRequest, repo: Repository, site: Site, summaries: Map<number, RepoSummary>): Promise<PackagesView | null> {
    if (!hasPackages(repo)) return null;
    const q = queryOf(req);
    const sort: PackageSort = q.sort === 'updated' ? 'updated' : 'name';
    const pageNo = Math.max(1, Number.parseInt(String(q.page ?? '1'), 10) || 1);
    const sources = repo.kind === 'group' ? wharf.membersOf(repo, req.principal).filter((m) => m.kind !== 'group' && hasPackages(m)) : [repo];
    let skip = (pageNo - 1) * REPO_PAGE_SIZE;
    let want = REPO_PAGE_SIZE;
    let total = 0;
    const rows: PackagesView['rows'] = [];
    for (const source of sources) {
      const n = summaries.get(source.id)?.packages ?? 0;
      total += n;
      if (want === 0 || skip >= n) {
        skip = Math.max(0, skip - n);
        continue;
      }
      const page = await wharf.catalog.packagesPage(source.id, { sort, offset: skip, limit: want });
      for (const r of page.rows) rows.push({ ...r, repo: source, url: packagePath(source, r.name) });
      want -= page.rows.length;
      skip = 0;
    }
    const base = rootTaken.get(repo.format) ? `${site.repoPath(repo)}?setup&` : `${site.repoPath(repo)}?`;
    return { sort, page: pageNo, total, rows, pageUrl: (page, s) => `${base}${new URLSearchParams({ ...(page > 1 ? { page: String(page) } : {}), sort: s }).toString()}` };
  }

  /** The package a viewer asks for, or null: a repository it may not read is as missing as one that does not exist. */
  async function findPackage(principal: Principal, repoName: string, name: string): Promise<{ repo: Repository; holder: Repository; pkg: PackageRow } | null> {
    const repo = wharf.repo(repoName);
    if (!repo || !can(principal, repo, 'read')) return null;
    // A group shows the package of the first member (that this viewer may read) holding it, as it serves it.
    const holders = repo.kind === 'group' ? wharf.membersOf(repo, principal).filter((m) => m.kind !== 'group') : [repo];
    for (const holder of holders) {
      const plugin = pluginByFormat.get(holder.format);
      if (!plugin?.packageView) continue;
      const pkg = await wharf.store.getPackage(holder.id, plugin.packageName?.(name) ?? name);
      if (pkg) return { repo, holder, pkg };
    }
    return null;
  }

  async function packagePage(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { repo: repoName, name } = req.params as { repo: string; name: string };
    const found = await findPackage(req.principal, repoName, name);
    if (!found) {
      // The same page for a missing repository, one the viewer may not read, and a missing package.
      const body = html`<h1>Not found</h1><p>There is no package ${name} in ${repoName} that you may read.</p><p><a href="${SEARCH_PATH}?${new URLSearchParams({ q: name }).toString()}">Search for ${name}</a></p>`;
      return sendPage(req, reply, frame(req, 'Not found · Wharf', body), { shared: false, status: 404 });
    }
    const { repo, holder, pkg } = found;
    const site = siteFor(req);
    const plugin = pluginByFormat.get(holder.format)!;
    const view: PackageView = await plugin.packageView!(wharf.contextFor(holder), pkg, {
      server: site.server, url: site.repoUrl(repo), name: repo.name, filesUrl: site.repoUrl(holder), private: !repo.publicRead || !holder.publicRead,
    });
    const selected = queryOf(req).version;
    const body = packageBody({
      pkg, repo, repoPath: site.repoPath(repo), view, selected: typeof selected === 'string' ? selected : null,
      member: holder === repo ? null : { repo: holder, path: site.repoPath(holder) },
    });
    // A group's answer depends on which members the viewer may read.
    const shared = repo.publicRead && holder.publicRead && repo.kind !== 'group';
    return sendPage(req, reply, frame(req, `${pkg.displayName} · ${repo.name} · Wharf`, body), { shared });
  }

  async function searchPage(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const params = parseSearchParams(queryOf(req));
    const form = searchForm(req, params);
    const repos = readable(req.principal);
    const scope = searchScope(params, repos.filter((r) => r.kind !== 'group' && hasPackages(r)), repos.filter((r) => r.kind === 'group'), (g) => wharf.membersOf(g, req.principal));
    const answer = await runSearch(wharf.catalog, params, scope, packagePath);
    // The answer names only what this viewer may read: shared among anonymous viewers only (send.ts).
    if (wantsJson(req)) return sendJson(req, reply, answer);
    return sendPage(req, reply, frame(req, params.q ? `${params.q} · Search · Wharf` : 'Search · Wharf', searchBody(form, answer), params.q), { shared: true });
  }

  return {
    wantsHome: (req) => hasQuery(req, 'login') || wantsPage(req.headers.accept),
    wantsRepository: (req, repo) => hasQuery(req, 'setup') || (wantsPage(req.headers.accept) && !rootTaken.get(repo.format)),

    async home(req, reply) {
      // Basic auth has no form: asking for credentials here makes the browser show its own.
      if (hasQuery(req, 'login') && req.principal.kind === 'anonymous') throw unauthorized('sign in to see the repositories you may read');
      const site = siteFor(req);
      const summaries = await wharf.catalog.repoSummaries();
      const rows = readable(req.principal).map((repo) => {
        const url = site.repoPath(repo);
        return {
          repo, url, setupUrl: rootTaken.get(repo.format) ? `${url}?setup` : null,
          summary: summaries.get(repo.id) ?? null,
          members: repo.kind === 'group' ? wharf.membersOf(repo, req.principal).length : null,
        };
      });
      return sendPage(req, reply, frame(req, 'Wharf repositories', homeBody(rows, searchForm(req), version)), { shared: true });
    },

    async repository(req, reply, repo) {
      const site = siteFor(req);
      const url = site.repoUrl(repo);
      const plugin = wharf.pluginFor(repo);
      const uploads = repo.kind === 'hosted' || (repo.kind === 'group' && groupOptionsOf(repo).uploadTo !== null);
      const sections = (await plugin.setupGuide?.(wharf.contextFor(repo), { server: site.server, url, private: !repo.publicRead, uploads })) ?? [];
      const members = wharf.membersOf(repo, req.principal).map((m) => ({ repo: m, url: site.repoPath(m) }));
      let proxy = null;
      if (repo.kind === 'proxy') {
        const opts = proxyOptionsOf(repo.options);
        // Credentials in an upstream URL are the operator's, never a page's.
        let upstream = opts.upstream;
        try {
          const u = new URL(opts.upstream);
          u.username = '';
          u.password = '';
          upstream = u.toString();
        } catch { /* shown as configured */ }
        proxy = { upstream, state: await wharf.catalog.proxyState(repo.id), offline: opts.offline };
      }
      const summaries = await wharf.catalog.repoSummaries();
      const body = repositoryBody({
        repo, url, browseUrl: rootTaken.get(repo.format) ? site.repoPath(repo) : null, members, sections,
        summary: summaries.get(repo.id) ?? null, packages: await packagesOf(req, repo, site, summaries), proxy,
      });
      // A group's page names the members this viewer may read: shared only among anonymous viewers.
      return sendPage(req, reply, frame(req, `${repo.name} · Wharf`, body), { shared: repo.publicRead });
    },

    register(app) {
      app.get(`${STATIC_PREFIX}:file`, async (req, reply) => sendStatic(req, reply));
      app.get('/-/package/:repo/:name', packagePage);
      app.get(SEARCH_PATH, searchPage);
      app.get(`${SEARCH_PATH}.json`, searchPage);
    },
  };
}
