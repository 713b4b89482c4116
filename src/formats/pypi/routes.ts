// PyPI's protocol routes below /<repo>/: simple pages (PEP 503/691), files and their
// core metadata (PEP 658), the JSON API, and twine uploads.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound, WharfError } from '../../core/errors.ts';
import type { FormatRoute, RouteContext } from '../../core/format-plugin.ts';
import { sendFile, sendIndex } from '../../server/http/send.ts';
import { renderProjectJsonApi } from './json-api.ts';
import { negotiateSimpleFormat } from './negotiate.ts';
import { normalizeName } from './names.ts';
import { jsonApiKey, projectKey, rootKey } from './paths.ts';
import { jsonApiInput } from './pages.ts';
import { handleUpload } from './upload.ts';

function negotiate(req: FastifyRequest): 'html' | 'json' {
  const format = negotiateSimpleFormat(req.headers.accept, (req.query as { format?: string }).format);
  if (!format) throw new WharfError('NOT_ACCEPTABLE', 'acceptable: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html');
  return format;
}

function sendStored(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, key: string, vary: string[] = []) {
  const row = ctx.services.getIndex(ctx.repo, key);
  if (!row) throw notFound();
  return sendIndex(req, reply, ctx.repo, row, { vary });
}

async function rootPage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  return sendStored(req, reply, ctx, rootKey(negotiate(req)), ['Accept']);
}

async function projectPage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const name = ctx.params.project!;
  const project = normalizeName(name);
  // PEP 503: a non-normalized name redirects to the normalized URL.
  if (project !== name) return reply.redirect(`../${encodeURIComponent(project)}/`, 301);
  const format = negotiate(req);
  const row = ctx.services.getIndex(ctx.repo, projectKey(project, format));
  if (!row) throw notFound(`no project ${project} in ${ctx.repo.name}`);
  return sendIndex(req, reply, ctx.repo, row, { vary: ['Accept'] });
}

async function download(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const path = `packages/${ctx.params.project}/${ctx.params.filename}`;
  const file = ctx.store.getFileByPath(ctx.repo.id, path);
  if (!file) throw notFound(`no file ${ctx.params.filename}`);
  return sendFile(req, reply, ctx.repo, ctx.blobs, file, { immutable: ctx.repo.options.allowOverwrite !== true });
}

async function jsonApi(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const name = ctx.params.project!;
  const project = normalizeName(name);
  if (project !== name) return reply.redirect(`../${encodeURIComponent(project)}/json`, 301);
  return sendStored(req, reply, ctx, jsonApiKey(project));
}

async function jsonApiVersion(_req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const project = normalizeName(ctx.params.project!);
  const pkg = ctx.store.getPackage(ctx.repo.id, project);
  if (!pkg) throw notFound(`no project ${project} in ${ctx.repo.name}`);
  const input = jsonApiInput(ctx, pkg.id, pkg.displayName, (p, f) => `../../../packages/${p}/${encodeURIComponent(f)}`);
  const doc = renderProjectJsonApi({ ...input, selectedVersion: ctx.params.version! });
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
