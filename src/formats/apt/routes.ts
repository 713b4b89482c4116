// APT's protocol routes below /<repo>/: the `dists/` tree (signed Release files, indexes by
// name and by hash), the pool of .debs, the public key, and uploads (curl -T, multipart).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { gunzipSync } from 'node:zlib';
import { badRequest, notFound, WharfError } from '../../core/errors.ts';
import type { FormatRoute, RouteContext } from '../../core/format-plugin.ts';
import type { IndexRow } from '../../core/model.ts';
import { readUploadForm } from '../../server/http/multipart-form.ts';
import { sendFile, sendIndex } from '../../server/http/send.ts';
import { SMALL_UPLOAD_BYTES, type StagedBlob } from '../../storage/blob-store.ts';
import { aptOptions } from './options.ts';
import { isValidSuite, stateKey, suiteScope } from './paths.ts';
import { proxyDists, proxyPool } from './proxy.ts';
import { groupDists, groupPool, servesOwnSuites } from './group.ts';
import { parseState, type StateFile, type SuiteState } from './suite-build.ts';
import { uploaderName } from '../../core/auth/principal.ts';

const SIGNED = new Set(['Release', 'InRelease', 'Release.gpg']);
const HASH_FIELDS: Record<string, 'md5' | 'sha256' | 'sha512'> = { MD5Sum: 'md5', SHA256: 'sha256', SHA512: 'sha512' };

/** Parsed state documents by their ETag (a memo the core holds), as a lookup from served path to stored file. */
const LOOKUPS = { maxEntries: 256, maxBytes: 64 * 1024 * 1024 };

function lookupFor(ctx: RouteContext, row: IndexRow): Map<string, StateFile> {
  const lookups = ctx.state.memo<Map<string, StateFile>>('apt:lookups', LOOKUPS);
  const cacheKey = `${row.key}\0${row.etag}`;
  let map = lookups.get(cacheKey);
  if (map) return map;
  const state: SuiteState = parseState(row.body);
  map = new Map();
  // Older generations first, so the current generation's names win.
  for (const gen of [...state.generations].reverse()) {
    for (const [rel, f] of Object.entries(gen.files)) {
      const slash = rel.lastIndexOf('/');
      const dir = slash < 0 ? '' : rel.slice(0, slash + 1);
      for (const [field, prop] of Object.entries(HASH_FIELDS)) map.set(`${dir}by-hash/${field}/${f[prop]}`, f);
    }
  }
  for (const [rel, f] of Object.entries(state.generations[0]?.files ?? {})) map.set(rel, f);
  // Estimated by the parsed document's size: a few hundred bytes per file it names.
  lookups.set(cacheKey, map, row.body.length * 4);
  return map;
}

async function dists(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  if (ctx.repo.kind === 'group' || servesOwnSuites(ctx.repo)) return groupDists(req, reply, ctx);
  if (ctx.repo.kind === 'proxy') return proxyDists(req, reply, ctx);
  const rest = ctx.params['*'] ?? '';
  const slash = rest.indexOf('/');
  const suite = slash < 0 ? rest : rest.slice(0, slash);
  const rel = slash < 0 ? '' : rest.slice(slash + 1);
  if (!isValidSuite(suite) || rel === '') throw notFound();
  let state = await ctx.services.getIndex(ctx.repo, stateKey(suite));
  if (!state && aptOptions(ctx.repo.options).suites[suite]) {
    // A suite added by configuration is published when first asked for.
    await ctx.services.publish(ctx.repo, [suiteScope(suite)]);
    state = await ctx.services.getIndex(ctx.repo, stateKey(suite));
  }
  if (!state) throw notFound(`no suite ${suite} in ${ctx.repo.name}`);
  if (SIGNED.has(rel)) {
    const row = await ctx.services.getIndex(ctx.repo, `dists/${suite}/${rel}`);
    if (!row) throw notFound();
    return sendIndex(req, reply, ctx.repo, row);
  }
  const file = lookupFor(ctx, state).get(rel);
  if (!file) throw notFound(`no ${rel} in suite ${suite}`);
  // Stored index files never change under their key, so the database is read directly.
  const stored = await ctx.store.getIndex(ctx.repo.id, file.content);
  if (!stored) throw notFound(`no ${rel} in suite ${suite}`);
  const row: IndexRow = file.gunzip
    ? { ...stored, key: `dists/${suite}/${rel}`, body: gunzipSync(stored.body), gzip: null, contentType: file.contentType, etag: `"${file.sha256.slice(0, 27)}"` }
    : stored;
  return sendIndex(req, reply, ctx.repo, row);
}

async function pool(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  if (ctx.repo.kind === 'group' || servesOwnSuites(ctx.repo)) return groupPool(req, reply, ctx);
  if (ctx.repo.kind === 'proxy') return proxyPool(req, reply, ctx);
  const path = `pool/${ctx.params['*'] ?? ''}`;
  const file = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (!file) throw notFound(`no file ${path}`);
  return sendFile(req, reply, ctx.repo, ctx.blobs, file, { contentType: 'application/vnd.debian.binary-package', immutable: true });
}

async function publicKey(_req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  // A proxy passes the upstream's signed Release files through untouched: they verify with the
  // upstream's key only. A group signs its merged suites with its own key, and so does a
  // proxy with a cooldown (it serves its upstream's suites filtered).
  if (ctx.repo.kind === 'proxy' && !servesOwnSuites(ctx.repo)) throw notFound(`${ctx.repo.name} is a proxy: its indexes are signed by the upstream, so use the upstream's key`);
  const armored = await ctx.services.keys.publicKeys(ctx.repo);
  return reply.header('cache-control', 'max-age=0, must-revalidate').type('application/pgp-keys').send(armored);
}

async function ingestStaged(reply: FastifyReply, ctx: RouteContext, staged: StagedBlob, filename: string) {
  const result = await ctx.services.ingest(ctx.repo, { uploader: uploaderName(ctx.principal), staged, filename, fields: { suite: [ctx.params.suite ?? ''], component: [ctx.params.component ?? ''] } });
  const paths = result.files.map((f) => f.path).join(', ');
  ctx.log.info({ repo: ctx.repo.name, file: paths, status: result.status }, 'upload');
  return reply.code(result.status === 'created' ? 201 : 200).type('text/plain; charset=utf-8')
    .send(`${result.status === 'created' ? 'added' : 'already there'}: ${paths}\n`);
}

/** Refused before the body is read, with the answer the API gives (see Wharf.uploadTarget). */
function assertHosted(ctx: RouteContext): void {
  if (ctx.repo.kind === 'proxy') throw new WharfError('METHOD_NOT_ALLOWED', `${ctx.repo.name} is a proxy repository: upload to a hosted repository`);
}

/** `curl -T x.deb .../upload/<suite>/<component>/`: the body is the .deb. */
async function putUpload(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  assertHosted(ctx);
  const staged = await ctx.blobs.stage(req.raw, { allHashes: true, keepBytes: SMALL_UPLOAD_BYTES });
  return ingestStaged(reply, ctx, staged, ctx.params.filename ?? '');
}

/** A multipart/form-data POST with one file part (any field name). */
async function postUpload(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  assertHosted(ctx);
  if (!req.isMultipart()) throw badRequest('send the .deb as multipart/form-data, or PUT it (curl -T)');
  const { files } = await readUploadForm(req, ctx.blobs, {
    checkFile: (_part, staged) => { if (staged > 0) throw badRequest('send one .deb per request'); },
  });
  if (files.length === 0) throw badRequest('no file part in the form');
  return ingestStaged(reply, ctx, files[0].blob, files[0].filename);
}

export const aptRoutes: FormatRoute[] = [
  { method: 'GET', path: '/dists/*', access: 'read', handler: dists },
  { method: 'GET', path: '/pool/*', access: 'read', handler: pool },
  { method: 'GET', path: '/key.asc', access: 'read', handler: publicKey },
  { method: 'PUT', path: '/upload/:suite/:component/:filename', access: 'write', handler: putUpload },
  { method: 'PUT', path: '/upload/:suite/:component/', access: 'write', handler: putUpload },
  { method: 'POST', path: '/upload/:suite/:component/', access: 'write', handler: postUpload },
];
