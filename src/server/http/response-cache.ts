// Answers to anonymous reads of published indexes, kept as ready-made responses and served
// before Fastify runs: a hot simple page then costs about what a bare Node server costs.
// Any change anywhere (a publish, a repository's settings) starts a new generation, and
// answers from an older generation are never used, so the cache cannot serve a stale index.
// The byte budget counts keys and headers as well as bodies: the key holds the client's
// Accept header, so many variants of one small page must not outgrow it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { carriesSession } from '../pages/session.ts';
import { acceptsGzip, etagMatches } from './conditional.ts';
import { repoRootOf } from './repo-root.ts';

interface CachedResponse {
  /** Estimated bytes held by this entry, body, key and headers included. */
  bytes: number;
  generation: number;
  expiresAt: number;
  etag: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** For answers that name the server's own URL (pages): the Host and forwarded headers they were made for. */
  site?: string;
}

/**
 * What a page that names the server's URL depends on besides the URL and Accept: the Host and
 * forwarded headers, and the repository served at the root of the port it came in on (`listen`:
 * that port's `/` is rewritten to `/<repo>/`, so one cache key serves both ports, and a client
 * can send either port's Host to the other).
 */
export function siteOf(headers: IncomingMessage['headers'], repoRoot?: string): string {
  return `${headers.host ?? ''}\0${headers['x-forwarded-host'] ?? ''}\0${headers['x-forwarded-proto'] ?? ''}\0${repoRoot ?? ''}`;
}

export class ResponseCache {
  private generation = 0;
  /** The generation each request began in: an answer built from an older one is not kept. */
  private readonly begun = new WeakMap<IncomingMessage, number>();
  private readonly entries = new Map<string, CachedResponse>();
  private bytes = 0;
  private readonly maxBytes: number;
  /** Answers served from the cache (for /-/metrics). */
  hits = 0;
  /** Called for each answer served here (the server logs them like its own). */
  onServed: ((req: IncomingMessage, status: number) => void) | null = null;

  constructor(maxBytes = 32 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  /** Bytes the entries are estimated to hold; never above the budget. */
  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Something changed: forget every answer. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.bytes = 0;
  }

  private static key(url: string, accept: string | undefined, gzip: boolean): string {
    return `${url}\0${accept ?? ''}\0${gzip ? 'gz' : ''}`;
  }

  /** Serve `req` from the cache if it can be; true when answered. */
  tryServe(req: IncomingMessage, res: ServerResponse): boolean {
    this.begun.set(req, this.generation);
    // A signed-in browser (session cookie) gets its own pages, made for it.
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.headers.authorization || req.headers.range || carriesSession(req.headers.cookie)) return false;
    const entry = this.entries.get(ResponseCache.key(req.url ?? '', req.headers.accept, acceptsGzip(req.headers['accept-encoding'])));
    if (!entry || entry.generation !== this.generation || entry.expiresAt <= Date.now()) return false;
    // A page made for another Host must not be shown here: its URLs would point there.
    if (entry.site !== undefined && entry.site !== siteOf(req.headers, repoRootOf(req))) return false;
    if (etagMatches(req.headers['if-none-match'], entry.etag)) {
      const { 'content-length': _len, 'content-encoding': _enc, ...rest } = entry.headers;
      res.writeHead(304, rest);
      res.end();
      this.hits++;
      this.onServed?.(req, 304);
      return true;
    }
    res.writeHead(200, entry.headers);
    res.end(req.method === 'HEAD' ? undefined : entry.body);
    this.hits++;
    this.onServed?.(req, 200);
    return true;
  }

  /**
   * Keep a 200 answer to an anonymous GET for the current generation. `site` (from siteOf):
   * the answer names the server's URL, and is reused only for requests with the same headers.
   * `from`: the request answered; if a change started a new generation while it was being
   * answered, the answer may predate the change and is not kept.
   */
  store(url: string, accept: string | undefined, gzip: boolean, etag: string, headers: Record<string, string>, body: Uint8Array, expiresAt = Infinity, site?: string, from?: IncomingMessage): void {
    if (from !== undefined && this.begun.get(from) !== this.generation) return;
    const key = ResponseCache.key(url, accept, gzip);
    let bytes = 2 * key.length + 2 * etag.length + 2 * (site?.length ?? 0) + body.length + 160;
    for (const [k, v] of Object.entries(headers)) bytes += 2 * (k.length + v.length) + 32;
    this.forget(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { bytes, generation: this.generation, expiresAt, etag, headers, body, site });
    this.bytes += bytes;
    if (this.bytes > this.maxBytes) {
      // Crude but bounded: drop the oldest entries until half the budget is free.
      for (const [k, e] of this.entries) {
        if (this.bytes <= this.maxBytes / 2) break;
        this.entries.delete(k);
        this.bytes -= e.bytes;
      }
    }
  }

  private forget(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.bytes -= old.bytes;
  }
}
