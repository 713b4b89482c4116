// The pages' style sheet and script, at URLs that carry a hash of their content
// (`/-/static/wharf-<hash>.css`): a browser keeps them for a year and a new release has new
// URLs. The plain names (`wharf.css`, `wharf.js`) answer too, revalidated by ETag, for
// anything that kept an old page. Both gzipped once, at start.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.ts';
import { acceptsGzip, etagMatches } from '../http/conditional.ts';
import { WHARF_CSS } from './assets/wharf-css.ts';
import { WHARF_JS } from './assets/wharf-js.ts';

export const STATIC_PREFIX = '/-/static/';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  contentType: string;
  etag: string;
  /** The immutable URL pages link to. */
  url: string;
}

function asset(name: string, ext: string, text: string, contentType: string): [string, Asset] {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return [`${name}.${ext}`, { body, gzip: gzipSync(body, { level: 9 }), contentType, etag: `"${hash}"`, url: `${STATIC_PREFIX}${name}-${hash}.${ext}` }];
}

const ASSETS = new Map([
  asset('wharf', 'css', WHARF_CSS, 'text/css; charset=utf-8'),
  asset('wharf', 'js', WHARF_JS, 'text/javascript; charset=utf-8'),
]);

/** The URLs the layout links. */
export const STATIC_URLS = { css: ASSETS.get('wharf.css')!.url, js: ASSETS.get('wharf.js')!.url };

/** `GET /-/static/:file`. */
export function sendStatic(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const file = (req.params as { file: string }).file;
  const hashed = /^([a-z]+)-[A-Za-z0-9_-]{16}\.([a-z]+)$/.exec(file);
  const a = ASSETS.get(hashed ? `${hashed[1]}.${hashed[2]}` : file);
  // An old release's hash is not this content: not found, rather than kept for a year.
  if (!a || (hashed && `${STATIC_PREFIX}${file}` !== a.url)) throw notFound(`no static file ${file}`);
  reply.header('content-type', a.contentType);
  reply.header('etag', a.etag);
  reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'public, no-cache');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('vary', 'Accept-Encoding');
  if (etagMatches(req.headers['if-none-match'], a.etag)) return reply.code(304).send();
  const gz = acceptsGzip(req.headers['accept-encoding']);
  if (gz) reply.header('content-encoding', 'gzip');
  const body = gz ? a.gzip : a.body;
  reply.header('content-length', String(body.length));
  return reply.send(body);
}
