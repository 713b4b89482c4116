// /-/api/v1/repositories/:name/{packages,files,upload,actions}: the package operations every
// format shares (list, show, delete, upload) and format-specific actions (e.g. yank).
import type { FastifyRequest } from 'fastify';
import { badRequest, forbidden, notFound, WharfError } from '../../core/errors.ts';
import type { FileRow } from '../../core/model.ts';
import type { Wharf } from '../../core/wharf.ts';
import type { ApiRoute } from './define.ts';
import { requireRepo } from './guards.ts';
import { isServerAdmin, uploaderName } from '../../core/auth/principal.ts';
import { SMALL_UPLOAD_BYTES } from '../../storage/blob-store.ts';
import { BatchIngest } from '../../core/batch-ingest.ts';
import type { Repository } from '../../core/model.ts';
import { readBatchBody } from './batch-body.ts';

const fileView = (f: FileRow) => ({ path: f.path, filename: f.filename, size: f.size, sha256: f.sha256, createdAt: f.createdAt, meta: f.meta });

/**
 * `uploadedAt`, a file's upload time elsewhere that a migration keeps (administrators only:
 * it dates a file back, and retention's keepDays counts from it); taken out of the format's fields.
 */
function uploadedAtFrom(req: FastifyRequest, fields: Record<string, string[]>): string | undefined {
  const v = fields.uploadedAt;
  if (!v) return undefined;
  delete fields.uploadedAt;
  if (!isServerAdmin(req.principal)) throw forbidden('uploadedAt (an upload time kept from elsewhere) needs an administrator');
  // With its time zone (Z or an offset): without one, Date.parse takes the server's own.
  const m = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d)$/.exec(v[0]);
  const t = Date.parse(v[0]);
  // Date.parse rolls 2019-02-30 into March: the day must be one of its month's.
  const realDay = m !== null && Number(m[3]) >= 1 && Number(m[3]) <= new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
  if (v.length !== 1 || !realDay || Number.isNaN(t)) throw badRequest('uploadedAt must be one ISO 8601 date-time with its time zone, e.g. 2024-05-01T12:00:00Z');
  if (t > Date.now() + 60_000) throw badRequest('uploadedAt is in the future');
  if (t < 0) throw badRequest('uploadedAt is before 1970');
  return new Date(t).toISOString();
}

function fieldsFromQuery(req: FastifyRequest): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, string | string[]>)) {
    if (k === 'filename') continue;
    fields[k] = Array.isArray(v) ? v : [v];
  }
  return fields;
}

export function packageRoutes(wharf: Wharf, maxUploadBytes: number): ApiRoute[] {
  const p = (req: FastifyRequest) => req.params as { name: string; package: string; version: string; action: string; '*': string };
  return [
    {
      method: 'GET', url: '/repositories/:name/packages', tag: 'packages', summary: 'List packages with their versions',
      handler: async (req) => {
        const repo = requireRepo(wharf, req, p(req).name, 'read');
        return {
          packages: await Promise.all((await wharf.store.listPackages(repo.id)).map(async (pkg) => ({
            name: pkg.name, displayName: pkg.displayName, updatedAt: pkg.updatedAt,
            versions: await wharf.store.listVersionNames(pkg.id),
            description: typeof pkg.meta.description === 'string' ? pkg.meta.description : undefined,
          }))),
        };
      },
    },
    {
      method: 'GET', url: '/repositories/:name/packages/:package', tag: 'packages', summary: 'Show a package: versions and files',
      handler: async (req) => {
        const repo = requireRepo(wharf, req, p(req).name, 'read');
        const pkg = await wharf.store.getPackage(repo.id, p(req).package);
        if (!pkg) throw notFound(`no package ${p(req).package} in ${repo.name}`);
        return {
          name: pkg.name, displayName: pkg.displayName, updatedAt: pkg.updatedAt,
          versions: await Promise.all((await wharf.store.listVersions(pkg.id)).map(async (v) => ({
            version: v.version, createdAt: v.createdAt, meta: v.meta, files: (await wharf.store.listFilesOfVersion(v.id)).map(fileView),
          }))),
        };
      },
    },
    {
      method: 'DELETE', url: '/repositories/:name/packages/:package', tag: 'packages', summary: 'Delete a package with all its versions',
      handler: async (req, reply) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        await wharf.packages.deletePackage(repo, p(req).package);
        return reply.code(204).send();
      },
    },
    {
      method: 'DELETE', url: '/repositories/:name/packages/:package/versions/:version', tag: 'packages', summary: 'Delete one version',
      handler: async (req, reply) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        await wharf.packages.deleteVersion(repo, p(req).package, p(req).version);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/repositories/:name/files', tag: 'files', summary: 'List stored files, optionally below a path prefix',
      querystring: { type: 'object', properties: { prefix: { type: 'string' } } },
      handler: async (req) => {
        const repo = requireRepo(wharf, req, p(req).name, 'read');
        const prefix = (req.query as { prefix?: string }).prefix ?? '';
        return { files: (await wharf.store.listFilesByPrefix(repo.id, prefix)).map(fileView) };
      },
    },
    {
      method: 'DELETE', url: '/repositories/:name/files/*', tag: 'files', summary: 'Delete one stored file by its path',
      handler: async (req, reply) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        await wharf.packages.deleteFile(repo, p(req)['*']);
        return reply.code(204).send();
      },
    },
    {
      method: 'POST', url: '/repositories/:name/upload', tag: 'packages', rawBody: true,
      summary: 'Upload one file as the raw request body; `filename` and format parameters (e.g. suite, component, sha256) in the query; `uploadedAt` (administrators) keeps an upload time from elsewhere',
      querystring: { type: 'object', required: ['filename'], properties: { filename: { type: 'string', maxLength: 255 }, sha256: { type: 'string' } } },
      handler: async (req, reply) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        const { filename, sha256 } = req.query as { filename: string; sha256?: string };
        // Counted from now, while its body arrives: see PackageService.arrive.
        const fields = fieldsFromQuery(req);
        const uploadedAt = uploadedAtFrom(req, fields);
        const arrival = wharf.services.arrive(repo);
        try {
          const staged = await wharf.blobs.stage(req.raw, { maxBytes: maxUploadBytes, allHashes: repo.format === 'apt', keepBytes: SMALL_UPLOAD_BYTES });
          if (sha256 && sha256.toLowerCase() !== staged.sha256) {
            await wharf.blobs.discard(staged);
            throw badRequest(`sha256 mismatch: the body hashes to ${staged.sha256}, the request says ${sha256}`);
          }
          const result = await wharf.services.ingest(repo, { uploader: uploaderName(req.principal), staged, filename, fields, ...(uploadedAt ? { uploadedAt } : {}) }, arrival);
          return reply.code(result.status === 'created' ? 201 : 200).send({ status: result.status, files: result.files.map(fileView) });
        } finally {
          await arrival.leave();
        }
      },
    },
    {
      method: 'POST', url: '/repositories/:name/batch', tag: 'packages', rawBody: true,
      summary: 'Upload many files as one tar stream (one entry per file, named as `filename`; an entry\'s pax record `WHARF.query` carries its own query, e.g. `suite=stable&sha256=…`); the query\'s format parameters apply to every entry. Answers once every accepted file is durable and published: one result per entry',
      querystring: { type: 'object', properties: {} },
      handler: async (req) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        return uploadBatch(wharf, req, wharf.uploadTarget(repo), maxUploadBytes);
      },
    },
    {
      method: 'POST', url: '/repositories/:name/actions/:action', tag: 'packages', summary: 'Run a format-specific action (PyPI: yank, unyank, project-status); write permission unless the format says otherwise (Arch list: read)',
      body: { type: 'object' },
      handler: async (req, reply) => {
        // Actions change the repository (write) unless the format says one only reads.
        const named = wharf.repo(p(req).name);
        const access = named ? wharf.pluginFor(named).actionAccess ?? {} : {};
        const need = Object.hasOwn(access, p(req).action) ? access[p(req).action] : 'write';
        const repo = requireRepo(wharf, req, p(req).name, need);
        const action = wharf.pluginFor(repo).actions?.[p(req).action];
        if (!action) throw notFound(`format ${repo.format} has no action ${p(req).action}`);
        const args = (req.body ?? {}) as Record<string, unknown>;
        if (!/application\/x-ndjson/.test(req.headers.accept ?? '')) return action(wharf.contextFor(repo), args);
        // Long actions (mirror sync) report progress as they go: one JSON object per line,
        // the last one {"result": …} or {"error": …}.
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        const line = (o: object) => res.write(JSON.stringify(o) + '\n');
        let last = 0;
        try {
          const result = await action(wharf.contextFor(repo), args, (event) => {
            const now = Date.now();
            if (now - last >= 200 || (event as { phase?: string }).phase === 'done') {
              last = now;
              line({ progress: event });
            }
          });
          line({ result });
        } catch (err) {
          const e = err as { code?: string; status?: number; message: string };
          if (!e.status || e.status >= 500) req.log.error({ err }, 'action failed');
          line({ error: { code: e.code ?? 'INTERNAL', status: e.status ?? 500, message: e.status && e.status < 500 ? e.message : e.message || 'internal error' } });
        }
        res.end();
      },
    },
  ];
}

/**
 * A batch: each entry staged and checked as a single upload would be, recorded in chunks, and
 * published before the answer. Entries received whole before the body broke off (or the
 * client went away) are recorded and published all the same.
 */
async function uploadBatch(wharf: Wharf, req: FastifyRequest, target: Repository, maxUploadBytes: number) {
  const batch = new BatchIngest(wharf.packages, target);
  const uploader = uploaderName(req.principal);
  const fields = fieldsFromQuery(req);
  delete fields.sha256;
  let broken: unknown;
  let entries = 0;
  try {
    entries = await readBatchBody(req.raw, { maxEntryBytes: maxUploadBytes, fields }, async (e) => {
      if ('error' in e) return batch.refuse(e.filename, e.error);
      const staged = await wharf.blobs.stage(e.body, { maxBytes: maxUploadBytes, allHashes: target.format === 'apt', keepBytes: SMALL_UPLOAD_BYTES });
      if (e.sha256 && e.sha256.toLowerCase() !== staged.sha256) {
        await wharf.blobs.discard(staged);
        return batch.refuse(e.filename, badRequest(`sha256 mismatch: the body hashes to ${staged.sha256}, the entry says ${e.sha256}`));
      }
      let uploadedAt: string | undefined;
      try {
        uploadedAt = uploadedAtFrom(req, e.fields);
      } catch (err) {
        await wharf.blobs.discard(staged);
        return batch.refuse(e.filename, err as WharfError);
      }
      await batch.add({ uploader, staged, filename: e.filename, fields: e.fields, ...(uploadedAt ? { uploadedAt } : {}) });
    });
  } catch (err) {
    broken = err;
  }
  const results = await batch.finish();
  if (broken !== undefined && (!(broken instanceof WharfError) || results.length === 0)) throw broken;
  return {
    results: results.map((r) => 'error' in r
      ? { filename: r.filename, error: { code: r.error.code, status: r.error.status, message: r.error.message } }
      : { filename: r.filename, status: r.result.status, files: r.result.files.map(fileView) }),
    ...(broken instanceof WharfError ? { error: { code: broken.code, status: broken.status, message: broken.message } } : {}),
    entries,
  };
}
