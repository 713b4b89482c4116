// Sending stored files and published indexes, the same way for every format: strong ETags
// and 304s, Range for files, precompressed gzip for indexes, HEAD without a body.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { blobMissing, isWharfError, WharfError } from '../../core/errors.ts';
import type { FileRow, IndexRow, Repository } from '../../core/model.ts';
import type { CacheUsage } from '../../core/proxy/cache-usage.ts';
import type { ContentResult } from '../../core/proxy/content-cache.ts';
import type { BlobReader, BlobStore } from '../../storage/blob-store.ts';
import { sendBlob } from './blob-sender.ts';
import { acceptsGzip, etagMatches, notModifiedSince } from './conditional.ts';
import { contentTypeFor } from './content-type.ts';
import { parseRange } from './range.ts';
import type { ResponseCache } from './response-cache.ts';

export function cacheControlFor(repo: Repository, immutable: boolean): string {
  const scope = repo.publicRead ? 'public' : 'private';
  return immutable ? `${scope}, max-age=31536000, immutable` : `${scope}, max-age=0, must-revalidate`;
}

export interface SendFileOptions {
  contentType?: string;
  /** Files never change under their path unless the repository allows overwrite. */
  immutable?: boolean;
  disposition?: string;
}

export async function sendFile(req: FastifyRequest, reply: FastifyReply, repo: Repository, blobs: BlobStore, file: Pick<FileRow, 'sha256' | 'size' | 'filename' | 'createdAt' | 'path'>, opts: SendFileOptions = {}): Promise<FastifyReply> {
  const etag = `"${file.sha256}"`;
  reply.header('etag', etag);
  reply.header('accept-ranges', 'bytes');
  reply.header('last-modified', new Date(file.createdAt).toUTCString());
  reply.header('cache-control', cacheControlFor(repo, opts.immutable ?? true));
  reply.header('content-type', opts.contentType ?? contentTypeFor(file.filename));
  if (opts.disposition) reply.header('content-disposition', opts.disposition);
  if (etagMatches(req.headers['if-none-match'], etag) || notModifiedSince(req.headers, file.createdAt)) return reply.code(304).send();
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? { kind: 'none' as const } : parseRange(req.headers.range, file.size);
  if (range.kind === 'unsatisfiable') {
    throw new WharfError('RANGE_NOT_SATISFIABLE', 'range not satisfiable', { 'content-range': `bytes */${file.size}` });
  }
  // A store that can hand out a short-lived URL of its own (S3 presigned) takes the bytes off
  // this process; the client sends its Range there again. HEAD still answers here.
  if (req.method === 'GET' && blobs.downloadUrl) {
    const url = await blobs.downloadUrl(file.sha256, { filename: file.filename, contentType: opts.contentType ?? contentTypeFor(file.filename) });
    if (url) return reply.code(302).header('cache-control', 'private, no-store').header('location', url).send();
  }
  // Open before answering, so a lost blob is a clear error rather than a broken stream.
  const id = { repo: repo.name, path: file.path, sha256: file.sha256 };
  let reader: BlobReader;
  try {
    reader = await blobs.openReader(file.sha256);
  } catch (err) {
    if (isWharfError(err) && err.code === 'BLOB_MISSING') {
      // The fields become part of the error's log line (the error handler logs 5xx at error level).
      throw Object.assign(blobMissing(file.sha256, `the content of ${repo.name}/${file.path} is missing from the server's storage (blob ${file.sha256}); an administrator should check the blob store`), id);
    }
    throw err;
  }
  let start = 0;
  let end = file.size - 1;
  if (range.kind === 'range') {
    ({ start, end } = range.range);
    reply.code(206);
    reply.header('content-range', `bytes ${start}-${end}/${file.size}`);
    reply.header('content-length', String(end - start + 1));
  } else {
    reply.header('content-length', String(file.size));
  }
  if (req.method === 'HEAD' || end < start) {
    await reader.close();
    return reply.send();
  }
  // The body is written here, chunk by chunk with backpressure (see blob-sender.ts); Fastify's
  // onResponse hooks still run when the response finishes.
  reply.hijack();
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) reply.raw.setHeader(k, v);
  reply.raw.writeHead(reply.statusCode);
  await sendBlob(reply.raw, reader, start, end, id, req.log);
  return reply;
}

export interface SendIndexOptions {
  vary?: string[];
  contentType?: string;
  /**
   * The answer depends only on the URL, Accept and Accept-Encoding, and changes only when
   * something is published: anonymous reads of it may be answered from the response cache.
   */
  cacheable?: boolean;
  /** With `cacheable`: reuse the answer until this time (ms), for pages built from proxied data. */
  expiresAt?: number;
}

export function sendIndex(req: FastifyRequest, reply: FastifyReply, repo: Repository, row: IndexRow, opts: SendIndexOptions = {}): FastifyReply {
  reply.header('etag', row.etag);
  reply.header('cache-control', cacheControlFor(repo, false));
  reply.header('content-type', opts.contentType ?? row.contentType);
  reply.header('last-modified', new Date(row.updatedAt).toUTCString());
  const vary = [...(opts.vary ?? [])];
  if (row.gzip) vary.push('Accept-Encoding');
  if (vary.length) reply.header('vary', vary.join(', '));
  if (etagMatches(req.headers['if-none-match'], row.etag) || notModifiedSince(req.headers, row.updatedAt)) return reply.code(304).send();
  const useGzip = row.gzip !== null && acceptsGzip(req.headers['accept-encoding']);
  const body = useGzip ? row.gzip! : row.body;
  if (useGzip) reply.header('content-encoding', 'gzip');
  reply.header('content-length', String(body.length));
  const cache = (req.server as { responseCache?: ResponseCache }).responseCache;
  if (cache && opts.cacheable && repo.publicRead && req.principal.kind === 'anonymous' && req.method === 'GET') {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v);
    cache.store(req.url, req.headers.accept, acceptsGzip(req.headers['accept-encoding']), row.etag, headers, body, opts.expiresAt, undefined, req.raw);
  }
  if (req.method === 'HEAD') return reply.send();
  return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

/** A proxy's file: from the store, or (first download) streamed as it arrives from the upstream. */
export function sendProxied(req: FastifyRequest, reply: FastifyReply, repo: Repository, blobs: BlobStore, result: ContentResult, filename: string): FastifyReply | Promise<FastifyReply> {
  if (result.kind === 'stored') {
    reply.header('x-wharf-cache', 'hit');
    if (req.method === 'GET') (req.server as { cacheUsage?: CacheUsage }).cacheUsage?.served(result.file);
    return sendFile(req, reply, repo, blobs, result.file, { immutable: true });
  }
  // The response only completes once the content is verified and stored (see ContentCache).
  reply.header('x-wharf-cache', 'miss');
  reply.header('content-type', contentTypeFor(filename));
  reply.header('cache-control', cacheControlFor(repo, true));
  if (result.contentLength !== null) reply.header('content-length', String(result.contentLength));
  if (req.method === 'HEAD') {
    // The download goes on without this client.
    result.stream.destroy();
    return reply.send();
  }
  return reply.send(result.stream);
}

/** Proxy and group answers built from a cache that could not be refreshed say so. */
export function markStale(reply: FastifyReply, stale: boolean): void {
  if (!stale) return;
  reply.header('x-wharf-stale', 'true');
  reply.header('warning', '110 - "Response is Stale"');
}
