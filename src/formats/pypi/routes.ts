// PyPI's protocol routes below /<repo>/: simple pages (PEP 503/691), files and their
// core metadata (PEP 658), the JSON API, and twine uploads.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound, WharfError } from '../../core/errors.ts';
import type { FormatRoute, RouteContext } from '../../core/format-plugin.ts';
import { markStale, sendFile, sendIndex, sendProxied } from '../../server/http/send.ts';
import { renderProjectJsonApi } from './json-api.ts';
import { negotiateSimpleFormat } from './negotiate.ts';
import { normalizeName } from './names.ts';
import { normalizeVersion } from './version.ts';
import { fileUrlFromPage, jsonApiKey, projectKey, rootKey } from './paths.ts';
import { jsonApiInput } from './pages.ts';
import { handleUpload } from './upload.ts';
import { eligibleMembers, groupFile, groupPage, groupRoot, memberPage, type MergedPage } from './group.ts';
import { contentTypeFor } from './negotiate.ts';
import { proxiedFile, upstreamJsonApi, upstreamRoot } from './proxy.ts';
import { hostedStatus, offersFiles, refuseDownload } from './project-status.ts';
import { renderedRow } from './rendered.ts';
import { renderProjectHtml, renderRootHtml } from './simple-html.ts';
import { renderProjectJson, renderRootJson } from './simple-json.ts';
import { groupAnswerRepo } from '../../core/group.ts';
import { cooldownOf, type Cooldown } from '../../core/cooldown.ts';

function negotiate(req: FastifyRequest): 'html' | 'json' {
  const format = negotiateSimpleFormat(req.headers.accept, (req.query as { format?: string }).format);
  if (!format) throw new WharfError('NOT_ACCEPTABLE', 'acceptable: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html');
  return format;
}

async function sendStored(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, key: string, vary: string[] = []) {
  const row = await ctx.services.getIndex(ctx.repo, key);
  if (!row) throw notFound();
  return sendIndex(req, reply, ctx.repo, row, { vary, cacheable: true });
}

async function rootPage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const format = negotiate(req);
  if (ctx.repo.kind === 'hosted') return sendStored(req, reply, ctx, rootKey(format), ['Accept']);
  const { names, stale, state } = ctx.repo.kind === 'proxy'
    ? await upstreamRoot(ctx).then((r) => ({ ...r, names: new Set(r.names) }))
    : await groupRoot(ctx);
  const entries = () => [...names].map((name) => ({ name }));
  const row = renderedRow(ctx, `root#${format}@${state}`, contentTypeFor(format), () => (format === 'json' ? renderRootJson(entries()) : renderRootHtml(entries())));
  markStale(reply, stale);
  return sendIndex(req, reply, groupAnswerRepo(ctx.repo, ctx.principal), row, { vary: ['Accept'] });
}

/** A proxy's or group's project page, rendered with every file URL pointing here. */
function sendMergedPage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, project: string, format: 'html' | 'json', merged: MergedPage) {
  const build = () => {
    const files = merged.files.map((f) => ({ ...f, url: fileUrlFromPage(project, f.filename) }));
    const versions = merged.versions.length ? merged.versions : [...new Set(files.map((f) => f.version).filter((v): v is string => !!v))];
    const page = { name: project, files, versions, status: merged.status };
    return format === 'json' ? renderProjectJson(page) : renderProjectHtml(page);
  };
  const row = renderedRow(ctx, `project:${project}#${format}@${merged.state}`, contentTypeFor(format), build);
  markStale(reply, merged.stale);
  // While every proxied part is fresh, the answer can be reused like a hosted page's.
  const cacheable = !merged.stale && merged.freshUntil > Date.now();
  return sendIndex(req, reply, groupAnswerRepo(ctx.repo, ctx.principal), row, { vary: ['Accept'], cacheable, expiresAt: merged.freshUntil });
}


async function projectPage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const name = ctx.params.project!;
  const project = normalizeName(name);
  // PEP 503: a non-normalized name redirects to the normalized URL.
  if (project !== name) return reply.redirect(`../${encodeURIComponent(project)}/`, 301);
  const format = negotiate(req);
  if (ctx.repo.kind !== 'hosted') {
    const merged = ctx.repo.kind === 'proxy' ? await memberPage(ctx, project) : await groupPage(ctx, project);
    if (!merged) throw notFound(`no project ${project} in ${ctx.repo.name}`);
    return sendMergedPage(req, reply, ctx, project, format, merged);
  }
  const row = await ctx.services.getIndex(ctx.repo, projectKey(project, format));
  if (!row) throw notFound(`no project ${project} in ${ctx.repo.name}`);
  return sendIndex(req, reply, ctx.repo, row, { vary: ['Accept'], cacheable: true });
}

async function download(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const project = ctx.params.project!;
  const name = ctx.params.filename!;
  if (ctx.repo.kind === 'proxy') return sendProxied(req, reply, ctx.repo, ctx.blobs, await proxiedFile(ctx, project, name), name);
  if (ctx.repo.kind === 'group') return sendProxied(req, reply, groupAnswerRepo(ctx.repo, ctx.principal), ctx.blobs, await groupFile(ctx, project, name), name);
  const path = `packages/${project}/${name}`;
  const file = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (!file) throw notFound(`no file ${ctx.params.filename}`);
  const status = await hostedStatus(ctx, project);
  if (!offersFiles(status)) throw refuseDownload(project, status, ` in ${ctx.repo.name}`);
  return sendFile(req, reply, ctx.repo, ctx.blobs, file, { immutable: ctx.repo.options.allowOverwrite !== true });
}

async function jsonApi(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const name = ctx.params.project!;
  const project = normalizeName(name);
  if (project !== name) return reply.redirect(`../${encodeURIComponent(project)}/json`, 301);
  if (ctx.repo.kind === 'hosted') return sendStored(req, reply, ctx, jsonApiKey(project));
  const doc = await jsonApiDocument(ctx, project);
  if (!doc.doc) throw notFound(`no project ${project} in ${ctx.repo.name}`);
  markStale(reply, doc.stale);
  return reply.header('cache-control', 'max-age=0, must-revalidate').send(doc.doc);
}

/** The JSON API of a proxy (its upstream's) or a group (its first member that has the project). */
async function jsonApiDocument(ctx: RouteContext, project: string, outer: readonly Cooldown[] = []): Promise<{ doc: unknown | null; stale: boolean }> {
  if (ctx.repo.kind === 'proxy') return upstreamJsonApi(ctx, project, outer);
  const own = cooldownOf(ctx.repo);
  const cooldowns = own ? [...outer, own] : outer;
  // The group's dependency-confusion guard applies here as on its pages.
  for (const m of await eligibleMembers(ctx, project)) {
    const mctx = { ...ctx, repo: m, state: ctx.services.stateOf(m) };
    if (m.kind === 'hosted') {
      const row = await ctx.services.getIndex(m, jsonApiKey(project));
      if (row) return { doc: JSON.parse(Buffer.from(row.body).toString()), stale: false };
    } else {
      const r = await jsonApiDocument(mctx, project, cooldowns);
      if (r.doc) return r;
    }
  }
  return { doc: null, stale: false };
}

async function jsonApiVersion(_req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const project = normalizeName(ctx.params.project!);
  if (ctx.repo.kind !== 'hosted') {
    const { doc, stale } = await jsonApiDocument(ctx, project);
    const releases = (doc as { releases?: Record<string, unknown[]> } | null)?.releases;
    const wanted = normalizeVersion(ctx.params.version!) ?? ctx.params.version!;
    const key = releases && Object.keys(releases).find((v) => (normalizeVersion(v) ?? v) === wanted);
    if (!doc || !key) throw notFound(`${project} has no version ${ctx.params.version}`);
    markStale(reply, stale);
    const urls = (releases![key] as { url?: string }[]).map((f) => ({ ...f, url: f.url?.replace(/^\.\.\/\.\.\//, '../../../') }));
    return reply.send({ info: { ...(doc as { info: object }).info, version: key }, last_serial: 0, urls, vulnerabilities: [] });
  }
  const pkg = await ctx.store.getPackage(ctx.repo.id, project);
  if (!pkg) throw notFound(`no project ${project} in ${ctx.repo.name}`);
  const input = await jsonApiInput(ctx, pkg.id, pkg.displayName, (p, f) => `../../../packages/${p}/${encodeURIComponent(f)}`, ctx.params.version!);
  // PEP 792: a quarantined project's files are listed nowhere.
  const shown = offersFiles(await hostedStatus(ctx, project));
  const doc = renderProjectJsonApi(shown ? input : { ...input, versions: input.versions.map((v) => ({ ...v, files: [] })) });
  return reply.header('cache-control', 'max-age=0, must-revalidate').send(doc);
}

const redirectSlash = async (req: FastifyRequest, reply: FastifyReply) => {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  return reply.redirect(`${path.slice(path.lastIndexOf('/') + 1)}/${q < 0 ? '' : req.url.slice(q)}`, 301);
};

export const pypiRoutes: FormatRoute[] = [
  { method: 'GET', path: '/simple/', access: 'read', handler: rootPage },
  { method: 'GET', path: '/simple', access: 'read', handler: redirectSlash },
  { method: 'GET', path: '/simple/:project/', access: 'read', handler: projectPage },
  { method: 'GET', path: '/simple/:project', access: 'read', handler: redirectSlash },
  { method: 'GET', path: '/packages/:project/:filename', access: 'read', handler: download },
  { method: 'GET', path: '/pypi/:project/json', access: 'read', handler: jsonApi },
  { method: 'GET', path: '/pypi/:project/:version/json', access: 'read', handler: jsonApiVersion },
  { method: 'POST', path: '/', access: 'write', handler: handleUpload },
  { method: 'POST', path: '/legacy/', access: 'write', handler: handleUpload },
];
