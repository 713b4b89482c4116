// Sending a page: a strong ETag and 304s, a strict policy (script and style only from this
// server's /-/static/ files, nothing inline, no framing), and for anonymous viewers a copy in
// the response cache, kept for the Host it names (never for a request with credentials or a
// session: those pages are `private`).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { acceptsGzip, etagMatches } from '../http/conditional.ts';
import { siteOf, type ResponseCache } from '../http/response-cache.ts';
import { repoRootOf } from '../http/repo-root.ts';

export const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface SendPageOptions {
  /** The page is the same for every anonymous viewer (it shows nothing private). */
  shared: boolean;
  /** The page holds a secret shown once (a new token): no cache keeps it, not even the browser's. */
  noStore?: boolean;
  /** Another status than 200 (a page saying what was not found): never cached. */
  status?: number;
}

const etagOf = (body: Buffer) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

export function sendPage(req: FastifyRequest, reply: FastifyReply, page: string, opts: SendPageOptions): FastifyReply {
  const body = Buffer.from(page, 'utf8');
  const etag = etagOf(body);
  reply.header('content-type', 'text/html; charset=utf-8');
  reply.header('etag', etag);
  // What a page shows depends on who asks: a shared cache must not keep a signed-in viewer's
  // (it names them, and a session's pages carry its CSRF token).
  const shared = opts.shared && req.principal.kind === 'anonymous';
  reply.header('vary', 'Accept, Authorization, Cookie');
  reply.header('cache-control', opts.noStore ? 'no-store' : shared ? 'no-cache' : 'private, no-cache');
  reply.header('content-security-policy', PAGE_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
  if (opts.status !== undefined && opts.status !== 200) {
    reply.removeHeader('etag');
    reply.header('cache-control', 'no-store');
    reply.header('content-length', String(body.length));
    return reply.code(opts.status).send(req.method === 'HEAD' ? undefined : body);
  }
  return answer(req, reply, body, etag, shared && !opts.noStore);
}

/** A JSON answer of the pages (search as you type), cached like a page. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, value: unknown): FastifyReply {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const etag = etagOf(body);
  reply.header('content-type', 'application/json; charset=utf-8');
  reply.header('etag', etag);
  reply.header('vary', 'Accept, Authorization, Cookie');
  reply.header('cache-control', 'private, no-cache');
  reply.header('x-content-type-options', 'nosniff');
  return answer(req, reply, body, etag, req.principal.kind === 'anonymous');
}

function answer(req: FastifyRequest, reply: FastifyReply, body: Buffer, etag: string, shared: boolean): FastifyReply {
  if (reply.statusCode === 200 && etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
  reply.header('content-length', String(body.length));
  const cache = (req.server as { responseCache?: ResponseCache }).responseCache;
  if (cache && shared && reply.statusCode === 200 && req.method === 'GET') {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v);
    cache.store(req.url, req.headers.accept, acceptsGzip(req.headers['accept-encoding']), etag, headers, body, Infinity, siteOf(req.headers, repoRootOf(req.raw)), req.raw);
  }
  if (req.method === 'HEAD') return reply.send();
  return reply.send(body);
}
