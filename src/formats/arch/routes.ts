// pacman's side of an Arch repository below /<repo>/: `Server = http://host/<repo>/$arch`
// fetches `<arch>/<name>.db`, `.files` and their `.sig`, then packages and their `.sig`.
// Uploads: `curl -T pkg.pkg.tar.zst http://host/<repo>/upload/` (a PUT per file, a `.sig`
// too) or one multipart POST holding a package and, optionally, its signature.
// A proxy answers the same GETs from its upstream (proxy.ts) and refuses uploads.
import { readFile } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, notFound, WharfError } from '../../core/errors.ts';
import type { FormatRoute, IngestResult, RouteContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import { readUploadForm } from '../../server/http/multipart-form.ts';
import { sendFile, sendIndex } from '../../server/http/send.ts';
import { repoArchitectures } from './arches.ts';
import { archOptions } from './options.ts';
import { archOfFilename, dbScope, filesScope, indexKey, packagePath, parseArchRequest } from './paths.ts';
import { proxyDb, proxyPackage } from './proxy.ts';
import { groupDbFile, groupPackage, servesOwnDbs } from './group.ts';
import { uploaderName } from '../../core/auth/principal.ts';

const fileView = (f: FileRow) => ({ path: f.path, filename: f.filename, size: f.size, sha256: f.sha256 });

function queryFields(req: FastifyRequest): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, string | string[]>)) fields[k] = Array.isArray(v) ? v : [v];
  return fields;
}

function answer(req: FastifyRequest, reply: FastifyReply, result: IngestResult) {
  reply.code(result.status === 'created' ? 201 : 200);
  // curl users read text; API-minded clients ask for JSON.
  if (/json/.test(req.headers.accept ?? '')) return reply.send({ status: result.status, files: result.files.map(fileView) });
  const verb = result.status === 'created' ? 'added' : 'already there';
  return reply.type('text/plain; charset=utf-8').send(`${verb}: ${result.files.filter((f) => !f.path.endsWith('.files')).map((f) => f.path).join(', ')}\n`);
}

// The same answer the core gives an API upload to a proxy.
function refuseProxyUpload(ctx: RouteContext): void {
  if (ctx.repo.kind === 'proxy') throw new WharfError('METHOD_NOT_ALLOWED', `${ctx.repo.name} is a proxy repository: upload to a hosted repository`);
}

async function putUpload(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  refuseProxyUpload(ctx);
  const filename = ctx.params.filename ?? '';
  const staged = await ctx.blobs.stage(req.raw);
  const result = await ctx.services.ingest(ctx.repo, { uploader: uploaderName(ctx.principal), staged, filename, fields: queryFields(req) });
  ctx.log.info({ repo: ctx.repo.name, file: filename, status: result.status }, 'upload');
  return answer(req, reply, result);
}

async function multipartUpload(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  refuseProxyUpload(ctx);
  if (!req.isMultipart()) throw new WharfError('UNSUPPORTED_MEDIA_TYPE', 'POST a multipart/form-data body with the package (and its .sig), or PUT the file to upload/<filename>');
  const form = await readUploadForm(req, ctx.blobs, { fields: queryFields(req), limitMessage: 'send one package and at most its signature' });
  const fields = form.fields;
  const staged = form.files;
  const discardAll = async () => {
    for (const s of staged) await ctx.blobs.discard(s.blob);
  };
  const sigs = staged.filter((s) => s.filename.endsWith('.sig'));
  const pkgs = staged.filter((s) => !s.filename.endsWith('.sig'));
  if (pkgs.length > 1 || sigs.length > 1 || staged.length === 0) {
    await discardAll();
    throw badRequest('send one package, optionally with its .sig, per request');
  }
  let result: IngestResult;
  if (pkgs.length === 0) {
    result = await ctx.services.ingest(ctx.repo, { uploader: uploaderName(ctx.principal), staged: sigs[0].blob, filename: sigs[0].filename, fields });
  } else {
    if (sigs.length === 1) {
      const sig = sigs[0];
      const bytes = sig.blob.size <= 64 * 1024 ? await readFile(sig.blob.path) : undefined;
      await ctx.blobs.discard(sig.blob);
      if (!bytes) {
        await ctx.blobs.discard(pkgs[0].blob);
        throw badRequest('the signature file is too large');
      }
      if (sig.filename !== `${pkgs[0].filename}.sig`) {
        await ctx.blobs.discard(pkgs[0].blob);
        throw badRequest(`the signature must be named ${pkgs[0].filename}.sig`);
      }
      fields.signature = [bytes.toString('base64')];
    }
    result = await ctx.services.ingest(ctx.repo, { uploader: uploaderName(ctx.principal), staged: pkgs[0].blob, filename: pkgs[0].filename, fields });
  }
  return answer(req, reply, result);
}

async function publicKey(_req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  // A proxy with a cooldown signs its filtered dbs with a key of its own.
  if (ctx.repo.kind === 'proxy' && !servesOwnDbs(ctx.repo)) throw notFound(`${ctx.repo.name} is a proxy repository and has no key of its own: trust the packager keys of its upstream`);
  const armored = await ctx.services.keys.publicKeys(ctx.repo);
  return reply.header('cache-control', 'max-age=0, must-revalidate').type('application/pgp-keys').send(armored);
}

async function archFile(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const arch = ctx.params.arch!;
  const what = parseArchRequest(ctx.params.file!);
  if (ctx.repo.kind === 'group' || servesOwnDbs(ctx.repo)) return 'kind' in what ? groupDbFile(req, reply, ctx, arch, ctx.params.file!, what.kind) : groupPackage(req, reply, ctx, arch, what.file);
  if (ctx.repo.kind === 'proxy') return 'kind' in what ? proxyDb(req, reply, ctx, arch, ctx.params.file!) : proxyPackage(req, reply, ctx, arch, what.file);
  if ('kind' in what) {
    const key = indexKey(arch, what.kind, what.sig);
    // The `.files` db is published a moment after a change (plugin.ts): one still pending is
    // published now, before it is read.
    if (what.kind === 'files' && await ctx.store.isDirty(ctx.repo.id, filesScope(arch))) await ctx.services.publish(ctx.repo, [filesScope(arch)], { now: true });
    let row = await ctx.services.getIndex(ctx.repo, key);
    if (!row && (await repoArchitectures(ctx)).includes(arch)) {
      // An architecture configured after the repository was created: publish it now.
      await ctx.services.publish(ctx.repo, [dbScope(arch), filesScope(arch)]);
      row = await ctx.services.getIndex(ctx.repo, key);
    }
    if (!row) throw notFound(`no ${what.kind} for architecture ${arch} in ${ctx.repo.name}`);
    return sendIndex(req, reply, ctx.repo, row);
  }
  const name = what.file;
  const pkgName = name.endsWith('.sig') ? name.slice(0, -4) : name;
  const fileArch = archOfFilename(pkgName);
  if (!fileArch || (fileArch !== arch && fileArch !== 'any')) throw notFound(`no file ${name} for ${arch}`);
  const file = await ctx.store.getFileByPath(ctx.repo.id, packagePath(fileArch, name));
  if (!file) throw notFound(`no file ${name} in ${ctx.repo.name}`);
  return sendFile(req, reply, ctx.repo, ctx.blobs, file, {
    immutable: !archOptions(ctx.repo).allowOverwrite && !name.endsWith('.sig'),
    contentType: name.endsWith('.sig') ? 'application/pgp-signature' : 'application/octet-stream',
  });
}

export const archRoutes: FormatRoute[] = [
  { method: 'GET', path: '/key.asc', access: 'read', handler: publicKey },
  { method: 'GET', path: '/:arch/:file', access: 'read', handler: archFile },
  { method: 'PUT', path: '/upload/:filename', access: 'write', handler: putUpload },
  { method: 'POST', path: '/upload/', access: 'write', handler: multipartUpload },
  { method: 'POST', path: '/upload', access: 'write', handler: multipartUpload },
];
