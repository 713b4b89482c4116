// The files protocol below /<repo>/: GET/HEAD a file or a directory listing, PUT a file
// (`curl -T file URL/dir/`), DELETE a file. Paths are read from the raw URL, one segment
// at a time, so no encoding can smuggle in `..` or an extra `/`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { conflict, forbidden, notFound, WharfError } from '../../core/errors.ts';
import type { FormatRoute, RouteContext } from '../../core/format-plugin.ts';
import { sendFile, sendIndex } from '../../server/http/send.ts';
import { negotiateListing } from './listing.ts';
import { baseName, listingKey, parseRequestPath, type RequestPath } from './paths.ts';
import { remoteGet } from './remote.ts';
import { directoryExists, treeConflict } from './tree.ts';
import { groupOptionsOf } from '../../core/group.ts';
import { uploaderName } from '../../core/auth/principal.ts';

function uploadTargetOf(ctx: RouteContext) {
  if (ctx.repo.kind === 'proxy') throw new WharfError('METHOD_NOT_ALLOWED', `${ctx.repo.name} is a proxy repository: upload to a hosted repository`);
  const target = groupOptionsOf(ctx.repo).uploadTo;
  const repo = target ? ctx.services.repo(target) : undefined;
  if (!repo) throw new WharfError('METHOD_NOT_ALLOWED', `group ${ctx.repo.name} has no uploadTo member`);
  return repo;
}

/** The still-encoded URL path below `/<repo>/`, without the query. */
function rawRepoPath(req: FastifyRequest, ctx: RouteContext): string {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const below = path.replace(/^\/[^/]*\/?/, '');
  return ctx.asOf === undefined ? below : below.replace(/^@[^/]*\/?/, '');
}

function queryString(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? '' : req.url.slice(q);
}

/** Uploaded files are served as they are: never let one run script in the server's origin. */
function untrustedContent(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', 'sandbox');
}

const listingsEnabled = (ctx: RouteContext) => ctx.repo.options.listings !== false;

async function listing(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, path: RequestPath) {
  if (!listingsEnabled(ctx)) throw forbidden(`directory listings are disabled in ${ctx.repo.name}`);
  const format = negotiateListing(req.headers.accept, (req.query as { format?: string }).format);
  if (!format) throw new WharfError('NOT_ACCEPTABLE', 'format is html or json');
  const dir = path.segments.length ? `${path.segments.join('/')}/` : '';
  const row = await ctx.services.getIndex(ctx.repo, listingKey(dir, format));
  if (!row) throw notFound(`no directory /${dir} in ${ctx.repo.name}`);
  reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
  return sendIndex(req, reply, ctx.repo, row, { vary: ['Accept'] });
}

async function get(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const path = parseRequestPath(rawRepoPath(req, ctx), { mergeSlashes: true });
  if (ctx.repo.kind !== 'hosted') return remoteGet(req, reply, ctx, path);
  if (path.directory) return listing(req, reply, ctx, path);
  const stored = path.segments.join('/');
  const file = await ctx.store.getFileByPath(ctx.repo.id, stored);
  if (file) {
    untrustedContent(reply);
    return sendFile(req, reply, ctx.repo, ctx.blobs, file, { immutable: ctx.repo.options.allowOverwrite !== true });
  }
  // A directory named without its slash: send the client to the listing, as web servers do.
  if (listingsEnabled(ctx) && await ctx.services.getIndex(ctx.repo, listingKey(`${stored}/`, 'html'))) {
    return reply.redirect(`${encodeURIComponent(baseName(stored))}/${queryString(req)}`, 301);
  }
  throw notFound(`no file /${stored} in ${ctx.repo.name}`);
}

/** The path a PUT or DELETE names: a file, never a directory, every segment explicit. */
function filePath(req: FastifyRequest, ctx: RouteContext): string {
  const path = parseRequestPath(rawRepoPath(req, ctx));
  if (path.directory) {
    throw new WharfError('INVALID_PATH', path.segments.length
      ? 'the URL names a directory: add the file name (curl -T file URL/dir/ adds it for you)'
      : 'name a file below the repository');
  }
  return path.segments.join('/');
}

async function put(req: FastifyRequest, reply: FastifyReply, routeCtx: RouteContext) {
  const path = filePath(req, routeCtx);
  // A group takes uploads into its hosted member (uploadTarget refuses proxies).
  const ctx: RouteContext = routeCtx.repo.kind === 'hosted' ? routeCtx : { ...routeCtx, repo: uploadTargetOf(routeCtx) };
  // Refuse before reading a possibly large body; ingest checks again.
  const refused = await treeConflict(ctx, path);
  if (refused) throw refused;
  const existed = (await ctx.store.getFileByPath(ctx.repo.id, path)) !== undefined;
  const staged = await ctx.blobs.stage(req.raw);
  const result = await ctx.services.ingest(ctx.repo, { uploader: uploaderName(ctx.principal), staged, filename: baseName(path), fields: { path: [path] } });
  const file = result.files[0];
  ctx.log.info({ repo: ctx.repo.name, path, status: result.status, user: ctx.principal.kind === 'anonymous' ? null : ctx.principal.user.name }, 'upload');
  reply.header('etag', `"${file.sha256}"`);
  reply.type('text/plain; charset=utf-8');
  if (result.status === 'exists') return reply.code(200).send(`unchanged: /${ctx.repo.name}/${path}\n`);
  if (existed) return reply.code(200).send(`replaced: /${ctx.repo.name}/${path} (${file.size} bytes, sha256 ${file.sha256})\n`);
  reply.header('location', `/${ctx.repo.name}/${path.split('/').map(encodeURIComponent).join('/')}`);
  return reply.code(201).send(`created: /${ctx.repo.name}/${path} (${file.size} bytes, sha256 ${file.sha256})\n`);
}

async function remove(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const path = filePath(req, ctx);
  if (ctx.repo.kind !== 'hosted') throw new WharfError('METHOD_NOT_ALLOWED', `delete files in ${ctx.repo.name}'s hosted member, or with the API`);
  if (!(await ctx.store.getFileByPath(ctx.repo.id, path))) {
    if (await directoryExists(ctx, `${path}/`)) throw conflict(`/${path} is a directory: delete the files in it`);
    throw notFound(`no file /${path} in ${ctx.repo.name}`);
  }
  await ctx.services.deleteFile(ctx.repo, path);
  ctx.log.info({ repo: ctx.repo.name, path, user: ctx.principal.kind === 'anonymous' ? null : ctx.principal.user.name }, 'delete');
  return reply.code(204).send();
}

export const filesRoutes: FormatRoute[] = [
  { method: 'GET', path: '/', access: 'read', handler: get },
  { method: 'GET', path: '/*', access: 'read', handler: get },
  { method: 'PUT', path: '/*', access: 'write', handler: put },
  { method: 'DELETE', path: '/*', access: 'write', handler: remove },
];
