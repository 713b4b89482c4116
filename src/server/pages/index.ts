// Pages for people, where package clients get their protocol answers: `/` lists the
// repositories the viewer may read, `/<repo>/` shows a repository and how each client uses
// it. A request gets a page when its Accept is a browser's (negotiate.ts); for a format that
// answers `/<repo>/` itself (a files listing), the page is at `/<repo>/?setup`. Permission is
// checked by the caller (repo-router) exactly as for the format's own routes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { can } from '../../core/auth/principal.ts';
import { unauthorized } from '../../core/errors.ts';
import { groupOptionsOf } from '../../core/group.ts';
import type { FormatPlugin } from '../../core/format-plugin.ts';
import type { Permission, Repository } from '../../core/model.ts';
import type { Wharf } from '../../core/wharf.ts';
import { homeBody } from './home.ts';
import { layout } from './layout.ts';
import { wantsPage } from './negotiate.ts';
import { repositoryBody } from './repository.ts';
import { sendPage } from './send.ts';
import { viewerOf } from './session.ts';
import { siteFor } from './site.ts';

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
  // Pages of their own URL (account.ts, admin.ts): `session` is a browser signed in through
  // the form; `admin-session` a server administrator's (anyone else: 404).
  { path: '/-/login', page: 'path', access: 'anyone' },
  { path: '/-/tokens', page: 'path', access: 'session' },
  { path: '/-/admin/repositories', page: 'path', access: 'admin-session' },
  { path: '/-/admin/users', page: 'path', access: 'admin-session' },
];

const hasQuery = (req: FastifyRequest, name: string) => Object.hasOwn((req.query ?? {}) as object, name);

/** Whether a format answers GET on the repository's root itself (then its answer stays). */
function servesRoot(plugin: FormatPlugin): boolean {
  const router = FindMyWay();
  for (const r of plugin.routes) if (r.method === 'GET') router.on('GET', r.path, () => {});
  return router.find('GET', '/') !== null;
}

export interface Pages {
  /** Whether a GET or HEAD of `/` is for the home page. */
  wantsHome(req: FastifyRequest): boolean;
  /** Whether a GET or HEAD of `/<repo>/` is for the repository's page. */
  wantsRepository(req: FastifyRequest, repo: Repository): boolean;
  home(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  /** The caller has checked that the viewer may read `repo`. */
  repository(req: FastifyRequest, reply: FastifyReply, repo: Repository): Promise<FastifyReply>;
}

export function createPages(wharf: Wharf, plugins: FormatPlugin[], version: string): Pages {
  const rootTaken = new Map(plugins.map((p) => [p.format, servesRoot(p)]));
  const frame = (req: FastifyRequest, title: string, body: ReturnType<typeof homeBody>) =>
    layout({ title, viewer: viewerOf(req), version, home: '/', body });

  return {
    wantsHome: (req) => hasQuery(req, 'login') || wantsPage(req.headers.accept),
    wantsRepository: (req, repo) => hasQuery(req, 'setup') || (wantsPage(req.headers.accept) && !rootTaken.get(repo.format)),

    async home(req, reply) {
      // Basic auth has no form: asking for credentials here makes the browser show its own.
      if (hasQuery(req, 'login') && req.principal.kind === 'anonymous') throw unauthorized('sign in to see the repositories you may read');
      const site = siteFor(req);
      const rows = wharf.listRepos()
        .filter((r) => can(req.principal, r, 'read'))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((repo) => {
          const url = site.repoPath(repo);
          return { repo, url, setupUrl: rootTaken.get(repo.format) ? `${url}?setup` : null };
        });
      return sendPage(req, reply, frame(req, 'Wharf repositories', homeBody(rows)), { shared: true });
    },

    async repository(req, reply, repo) {
      const site = siteFor(req);
      const url = site.repoUrl(repo);
      const plugin = wharf.pluginFor(repo);
      const uploads = repo.kind === 'hosted' || (repo.kind === 'group' && groupOptionsOf(repo).uploadTo !== null);
      const sections = (await plugin.setupGuide?.(wharf.contextFor(repo), { server: site.server, url, private: !repo.publicRead, uploads })) ?? [];
      const members = wharf.membersOf(repo, req.principal).map((m) => ({ repo: m, url: site.repoPath(m) }));
      const body = repositoryBody({ repo, url, browseUrl: rootTaken.get(repo.format) ? site.repoPath(repo) : null, members, sections });
      // A group's page names the members this viewer may read: shared only among anonymous viewers.
      return sendPage(req, reply, frame(req, `${repo.name} · Wharf`, body), { shared: repo.publicRead });
    },
  };
}
