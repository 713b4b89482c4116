// Routes /<repo>/... to the repository's format: each format's routes are compiled into a
// router of their own, so formats never collide and nothing here names a format.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { can } from '../core/auth/principal.ts';
import { WharfError, badRequest, forbidden, notFound, unauthorized } from '../core/errors.ts';
import type { FormatPlugin, FormatRoute } from '../core/format-plugin.ts';
import type { Permission, Repository } from '../core/model.ts';
import type { Wharf } from '../core/wharf.ts';
import { parseInstant } from '../core/time-travel.ts';
import type { Pages } from './pages/index.ts';

type Router = ReturnType<typeof FindMyWay>;

/** dispatchAsOf's answer when the `@` segment is a literal path, routed as any other. */
const LITERAL = Symbol('literal path');

function compile(plugin: FormatPlugin): Router {
  const router = FindMyWay({ ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 500 });
  for (const route of plugin.routes) {
    const methods: HTTPMethod[] = route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
    for (const m of methods) router.on(m, route.path, () => {}, route);
  }
  return router;
}

/** Refuses a principal without `need` on `repo`, as every route of a repository does. */
function checkAccess(req: FastifyRequest, repo: Repository, need: Permission): void {
  if (can(req.principal, repo, need)) return;
  if (req.principal.kind === 'anonymous') throw unauthorized(`${repo.name} requires authentication`, repo.name);
  throw forbidden(`${req.principal.user.name} may not ${need === 'read' ? 'read' : 'write to'} ${repo.name}`);
}

/** `pages`: browsers get pages at `/` and `/<repo>/` (see pages/index.ts); other clients never do. */
export function registerRepoRoutes(app: FastifyInstance, wharf: Wharf, plugins: FormatPlugin[], pages?: Pages): void {
  const routers = new Map(plugins.map((p) => [p.format, compile(p)]));

  const dispatch = async (req: FastifyRequest, reply: FastifyReply) => {
    const { repo: repoName } = req.params as { repo: string };
    const repo = wharf.repo(repoName);
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (!repo && repoName === '' && read && pages?.wantsHome(req)) return pages.home(req, reply);
    if (!repo) throw notFound(`no repository named ${repoName}`);
    const router = routers.get(repo.format)!;
    const q = req.url.indexOf('?');
    // find-my-way decodes parameters itself: hand it the raw path below the repository.
    const rawPath = req.url.slice(0, q < 0 ? undefined : q).replace(/^\/[^/]*/, '') || '/';
    if (rawPath === '/' && !req.url.slice(0, q < 0 ? undefined : q).endsWith('/') && (req.method === 'GET' || req.method === 'HEAD')) {
      return reply.redirect(`/${repoName}/`, 301);
    }
    // Time travel: `/<repo>/@<instant or snapshot>/…` answers what the repository held then.
    const asOf = /^\/@([^/]*)(\/.*)?$/.exec(rawPath);
    if (asOf) {
      const answered = await dispatchAsOf(req, reply, repo, router, asOf[1], asOf[2] ?? '/', rawPath);
      if (answered !== LITERAL) return answered;
    }
    if (pages && rawPath === '/' && read && pages.wantsRepository(req, repo)) {
      checkAccess(req, repo, 'read');
      return pages.repository(req, reply, repo);
    }
    const found = router.find(req.method as HTTPMethod, rawPath);
    if (!found) {
      const anyMethod = ['GET', 'POST', 'PUT', 'DELETE'].some((m) => router.find(m as HTTPMethod, rawPath));
      if (anyMethod) throw new WharfError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
      throw notFound(`not found: ${rawPath}`);
    }
    const route = found.store as FormatRoute;
    checkAccess(req, repo, route.access);
    return route.handler(req, reply, { ...wharf.contextFor(repo), params: found.params, principal: req.principal });
  };

  /**
   * Reads only, with the repository's read permission, on a context that answers as of the
   * instant. An `@` segment that is neither an instant nor one of the repository's snapshots,
   * where the format has a route for the literal path (a files repository's `@scope/` folder),
   * is that path (LITERAL); elsewhere it gets time travel's own 4xx.
   */
  const dispatchAsOf = async (req: FastifyRequest, reply: FastifyReply, repo: Repository, router: Router, rawRef: string, rest: string, rawPath: string) => {
    let ref: string | null = null;
    try {
      ref = decodeURIComponent(rawRef);
    } catch {
      // Not a reference: perhaps a literal path.
    }
    const instant = ref === null ? null : parseInstant(ref);
    const literal = router.find(req.method as HTTPMethod, rawPath) !== null;
    if (!instant && (ref === null || !(await wharf.timeTravel.isSnapshot(repo, ref)))) {
      if (literal) return LITERAL;
      if (ref === null) throw badRequest('malformed @ reference');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (literal && !instant) return LITERAL;
      throw new WharfError('METHOD_NOT_ALLOWED', `the past is read-only: ${req.method} goes to /${repo.name}/`);
    }
    checkAccess(req, repo, 'read');
    const resolved = await wharf.timeTravel.resolve(repo, ref!);
    const found = router.find(req.method as HTTPMethod, rest);
    if (!found || (found.store as FormatRoute).access !== 'read') throw notFound(`not found: ${rest} (as of ${resolved.at})`);
    const ctx = await wharf.timeTravel.contextAt({ ...wharf.contextFor(repo), params: found.params, principal: req.principal, asOf: resolved.at }, resolved.at);
    reply.header('x-wharf-as-of', resolved.at);
    return (found.store as FormatRoute).handler(req, reply, ctx);
  };

  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'] as const;
  app.route({ method: [...methods], url: '/:repo', handler: dispatch });
  app.route({ method: [...methods], url: '/:repo/*', handler: dispatch });
}
