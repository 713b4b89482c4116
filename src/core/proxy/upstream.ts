// Requests to a proxy repository's upstream: one timeout, credentials only for the
// upstream's own origin (never leaked to a CDN it links to), conditional requests.
import { WharfError } from '../errors.ts';
import type { ProxyOptions } from './options.ts';

export class UpstreamUnavailable extends WharfError {
  constructor(message: string) {
    super('UPSTREAM_FAILED', message);
  }
}

export interface UpstreamRequest {
  accept?: string;
  etag?: string | null;
  lastModified?: string | null;
}

/** Resolve `target` (relative to the upstream base, or absolute) and fetch it. */
export async function fetchUpstream(opts: ProxyOptions, target: string, req: UpstreamRequest = {}): Promise<Response> {
  const base = new URL(opts.upstream);
  const url = new URL(target, base);
  const headers: Record<string, string> = { 'user-agent': 'wharf-proxy' };
  if (req.accept) headers.accept = req.accept;
  if (req.etag) headers['if-none-match'] = req.etag;
  if (req.lastModified) headers['if-modified-since'] = req.lastModified;
  if (opts.username !== undefined && url.origin === base.origin) {
    headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  }
  try {
    return await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(opts.timeout * 1000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const why = (err as Error).name === 'TimeoutError' ? `timed out after ${opts.timeout} s` : cause ?? (err as Error).message;
    throw new UpstreamUnavailable(`upstream ${url.origin} unavailable: ${why}`);
  }
}

/** Throw for an upstream answer that is neither content nor a clean "not found". */
export function assertUpstreamOk(res: Response, what: string): void {
  if (res.status >= 500 || (res.status >= 400 && res.status !== 404 && res.status !== 410)) {
    throw new UpstreamUnavailable(`upstream answered ${res.status} for ${what}`);
  }
}
