// Requests to a proxy repository's upstream. Two timeouts instead of one deadline for the whole
// transfer: `timeout` for the answer's headers, `idleTimeout` between two chunks of its body, so
// a large file that keeps arriving is never cut off while a stalled one is. Every failure
// (refused, timed out, broken off, 5xx) is an UpstreamUnavailable (502) with a message that
// says what happened. A breaker per repository: after `maxFails` consecutive failures the
// upstream is not asked for `failTimeout` seconds, so callers serve stale copies at once
// instead of waiting for the timeout each time (Verdaccio's max_fails / fail_timeout).
// Credentials go only to the upstream's own origin (never leaked to a CDN it links to).
import { WharfError } from '../errors.ts';
import type { Repository } from '../model.ts';
import { download, type Download } from './download.ts';
import type { ProxyOptions } from './options.ts';
import { YoungCollector } from './young-gc.ts';

export class UpstreamUnavailable extends WharfError {
  constructor(message: string) {
    super('UPSTREAM_FAILED', message);
  }
}

export interface UpstreamRequest {
  accept?: string;
  /**
   * The most bytes the caller will read into memory (metadata: the proxy's maxMetadataBytes).
   * A larger Content-Length, or a body that runs past it, is an upstream failure.
   */
  maxBytes?: number;
  etag?: string | null;
  lastModified?: string | null;
}

interface Health {
  failures: number;
  lastFailure: number;
}

/** Why a fetch or a body read failed, in words. */
function reason(err: unknown): string {
  if (err instanceof UpstreamUnavailable) return err.message;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Upstream access for every proxy repository, with the per-repository breaker state. */
export class Upstreams {
  private readonly health = new Map<number, Health>();
  /** Where refusals an operator should know of (an answer over its size cap) are logged. */
  log: { warn(obj: object, msg: string): void } | null = null;
  /** Frees the buffers downloads leave behind before they start a full collection (young-gc.ts). */
  readonly young = new YoungCollector();

  private tooLarge(repo: Repository, origin: string, what: string, max: number, seen: string): UpstreamUnavailable {
    this.failed(repo);
    this.log?.warn({ repo: repo.name, upstream: origin, path: what, maxMetadataBytes: max, seen }, 'upstream answer larger than maxMetadataBytes: refused (raise the proxy option if it is genuine)');
    return new UpstreamUnavailable(`upstream ${origin} sent ${what} larger than maxMetadataBytes (${max} bytes; ${seen}); refused`);
  }

  /** Throws at once while the breaker of `repo` is open. */
  private checkBreaker(repo: Repository, opts: ProxyOptions, origin: string): void {
    const h = this.health.get(repo.id);
    if (!h || opts.maxFails <= 0 || h.failures < opts.maxFails) return;
    const waitMs = h.lastFailure + opts.failTimeout * 1000 - Date.now();
    if (waitMs > 0) {
      throw new UpstreamUnavailable(`upstream ${origin} failed ${h.failures} times in a row; not asked again for ${Math.ceil(waitMs / 1000)} s`);
    }
  }

  private failed(repo: Repository): void {
    const h = this.health.get(repo.id) ?? { failures: 0, lastFailure: 0 };
    h.failures++;
    h.lastFailure = Date.now();
    this.health.set(repo.id, h);
  }

  private succeeded(repo: Repository): void {
    this.health.delete(repo.id);
  }

  /** Consecutive failures of `repo`'s upstream (0 when healthy), for metrics and tests. */
  failures(repo: Repository): number {
    return this.health.get(repo.id)?.failures ?? 0;
  }

  /**
   * Send a request and wait for its answer's headers within `opts.timeout`: a failure (refused,
   * timed out) counts against the breaker and is an UpstreamUnavailable; a 5xx counts too.
   */
  private async answer<T extends { status: number; ok: boolean }>(repo: Repository, opts: ProxyOptions, origin: string, abort: AbortController, send: () => Promise<T>): Promise<T> {
    let timedOut: string | null = null;
    const headersTimer = setTimeout(() => {
      timedOut = `no answer within ${opts.timeout} s`;
      abort.abort(new UpstreamUnavailable(`upstream ${origin} unavailable: ${timedOut}`));
    }, opts.timeout * 1000);
    let res: T;
    try {
      res = await send();
    } catch (err) {
      this.failed(repo);
      throw new UpstreamUnavailable(`upstream ${origin} unavailable: ${timedOut ?? reason(err)}`);
    } finally {
      clearTimeout(headersTimer);
    }
    if (res.status >= 500) this.failed(repo);
    else if (!res.ok) this.succeeded(repo);
    return res;
  }

  /**
   * Resolve `target` (relative to the upstream base, or absolute) and fetch it. The returned
   * body is guarded by the idle timeout; reading it throws UpstreamUnavailable when the
   * upstream stalls or breaks off. A 5xx counts as a failure of the upstream (and is returned).
   */
  async fetch(repo: Repository, opts: ProxyOptions, target: string, req: UpstreamRequest = {}): Promise<Response> {
    const base = new URL(opts.upstream);
    const url = new URL(target, base);
    const origin = url.origin;
    this.checkBreaker(repo, opts, base.origin);
    const headers: Record<string, string> = { 'user-agent': 'wharf-proxy' };
    if (req.accept) headers.accept = req.accept;
    if (req.etag) headers['if-none-match'] = req.etag;
    if (req.lastModified) headers['if-modified-since'] = req.lastModified;
    if (opts.username !== undefined && url.origin === base.origin) {
      headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    }
    const abort = new AbortController();
    const res = await this.answer(repo, opts, origin, abort, () => fetch(url, { headers, redirect: 'follow', signal: abort.signal }));
    /** Why the body's reading was cut off, once it was. */
    let timedOut: string | null = null;
    if (!res.ok || !res.body) {
      // Nobody reads the body of an error or a 304: free the connection now.
      await res.body?.cancel().catch(() => {});
      if (res.ok) this.succeeded(repo);
      return withUrl(new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers }), res.url);
    }
    const what = `${url.pathname}`;
    const max = req.maxBytes;
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (max !== undefined && announced > max) {
      await res.body.cancel().catch(() => {});
      abort.abort();
      throw this.tooLarge(repo, origin, what, max, `Content-Length ${announced}`);
    }
    const reader = res.body.getReader();
    const idleMs = opts.idleTimeout * 1000;
    const upstreams = this;
    let received = 0;
    // Pulled only when a reader wants more: time spent waiting on a slow client is not idleness.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const idle = setTimeout(() => {
          timedOut = `no bytes of ${what} for ${opts.idleTimeout} s`;
          abort.abort(new UpstreamUnavailable(`upstream ${origin} stalled: ${timedOut}`));
        }, idleMs);
        try {
          const { done, value } = await reader.read();
          if (done) {
            upstreams.succeeded(repo);
            controller.close();
          } else if (max !== undefined && (received += value.length) > max) {
            abort.abort();
            void reader.cancel().catch(() => {});
            controller.error(upstreams.tooLarge(repo, origin, what, max, `more than ${max} bytes sent`));
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          upstreams.failed(repo);
          controller.error(new UpstreamUnavailable(timedOut ? `upstream ${origin} stalled: ${timedOut}` : `upstream ${origin} broke off ${what}: ${reason(err)}`));
        } finally {
          clearTimeout(idle);
        }
      },
      cancel(why) {
        abort.abort();
        return reader.cancel(why).catch(() => {});
      },
    }, { highWaterMark: 0 });
    return withUrl(new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers }), res.url);
  }
  /**
   * Fetch content (a package, a file) as a Node stream: the same timeouts, breaker and
   * credentials as `fetch`, without fetch's web streams on the path of every byte.
   */
  async download(repo: Repository, opts: ProxyOptions, target: string): Promise<Download> {
    const base = new URL(opts.upstream);
    const url = new URL(target, base);
    const origin = url.origin;
    this.checkBreaker(repo, opts, base.origin);
    const abort = new AbortController();
    const what = url.pathname;
    return this.answer(repo, opts, origin, abort, () => download(url, {
      headers: { 'user-agent': 'wharf-proxy' },
      authorization: opts.username === undefined ? undefined : { origin: base.origin, value: `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}` },
      signal: abort.signal,
      idleMs: opts.idleTimeout * 1000,
      stalled: () => new UpstreamUnavailable(`upstream ${origin} stalled: no bytes of ${what} for ${opts.idleTimeout} s`),
      brokeOff: (cause) => new UpstreamUnavailable(`upstream ${origin} broke off ${what}: ${reason(cause)}`),
      settled: (complete) => (complete ? this.succeeded(repo) : this.failed(repo)),
      received: (bytes) => this.young.downloaded(bytes),
    }));
  }
}

/** Relative links in a page resolve against the URL it came from (after redirects). */
function withUrl(res: Response, url: string): Response {
  Object.defineProperty(res, 'url', { value: url });
  return res;
}

/** Throw for an upstream answer that is neither content nor a clean "not found". */
export function assertUpstreamOk(res: Response, what: string): void {
  if (res.status >= 500 || (res.status >= 400 && res.status !== 404 && res.status !== 410)) {
    throw new UpstreamUnavailable(`upstream answered ${res.status} for ${what}`);
  }
}

/**
 * The sha256 an upstream announces for the body it sends, when it does (RFC 9530
 * `Repr-Digest`, RFC 3230 `Digest`, Artifactory's and Nexus's `X-Checksum-Sha256`): without
 * an index to check against, the only way to tell a lie in Content-Length from a short file.
 */
export function announcedSha256(headers: Headers): string | null {
  const x = headers.get('x-checksum-sha256');
  if (x && /^[0-9a-fA-F]{64}$/.test(x.trim())) return x.trim().toLowerCase();
  const repr = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):/i.exec(headers.get('repr-digest') ?? '');
  const legacy = /(?:^|,)\s*sha-256=([A-Za-z0-9+/=]+)/i.exec(headers.get('digest') ?? '');
  const hex = Buffer.from((repr ?? legacy)?.[1] ?? '', 'base64').toString('hex');
  return hex.length === 64 ? hex : null;
}
