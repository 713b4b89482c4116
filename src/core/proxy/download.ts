// An upstream download as a Node stream, over node:http(s) with keep-alive. Content (packages,
// files, up to gigabytes) goes this way rather than through fetch(): fetch's web streams cost
// about twice the CPU per MiB and garbage enough to force full collections every few downloads,
// which is most of what a proxy's first client waits for beyond the upstream itself.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface Download {
  status: number;
  ok: boolean;
  headers: Headers;
  /** The URL answered, after redirects. */
  url: string;
  /** Null for a body nobody should read (an error answer: it is drained). */
  body: Readable | null;
}

export interface DownloadOptions {
  headers: Record<string, string>;
  /** Sent only to this origin: a redirect elsewhere (a CDN) goes without it. */
  authorization?: { origin: string; value: string };
  /** Aborts waiting for the answer's headers and the body. */
  signal: AbortSignal;
  /** The body fails with `stalled()` when it pauses longer than this while its reader wants more. */
  idleMs: number;
  stalled(): Error;
  /** The error a body that breaks off fails with. */
  brokeOff(cause: Error): Error;
  /** Told once when the body was read to its end (true) or failed (false). */
  settled(complete: boolean): void;
  /** Told of each chunk of the body as it arrives. */
  received?(bytes: number): void;
}

const MAX_REDIRECTS = 20;
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

function headersOf(res: IncomingMessage): Headers {
  const h = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  return h;
}

function once(url: URL, opts: DownloadOptions): Promise<IncomingMessage> {
  const headers = { ...opts.headers };
  if (opts.authorization && url.origin === opts.authorization.origin) headers.authorization = opts.authorization.value;
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(url, { headers, agent: https ? agents.https : agents.http, signal: opts.signal }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** GET `url`, following redirects; the body is paced by its reader and watched for stalls. */
export async function download(url: URL, opts: DownloadOptions): Promise<Download> {
  let res = await once(url, opts);
  for (let hops = 0; res.statusCode! >= 300 && res.statusCode! < 400 && res.headers.location; hops++) {
    res.resume();
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    url = new URL(res.headers.location, url);
    res = await once(url, opts);
  }
  const status = res.statusCode!;
  const ok = status >= 200 && status < 300;
  if (!ok) res.resume();
  return { status, ok, headers: headersOf(res), url: url.href, body: ok ? paced(res, opts) : null };
}

/**
 * `res` re-emitted so that the idle timer runs only while the reader wants bytes: time spent
 * waiting on a slow client is not the upstream's idleness.
 */
function paced(res: IncomingMessage, opts: DownloadOptions): Readable {
  let timer: NodeJS.Timeout | null = null;
  let settled = false;
  const settle = (complete: boolean) => {
    if (!settled) opts.settled(complete);
    settled = true;
  };
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const fail = (err: Error) => {
    stop();
    settle(false);
    out.destroy(err);
  };
  const arm = () => {
    timer ??= setTimeout(() => {
      fail(opts.stalled());
      res.destroy();
    }, opts.idleMs);
  };
  const out: Readable = new Readable({
    highWaterMark: 256 * 1024,
    read() {
      arm();
      res.resume();
    },
    destroy(err, cb) {
      stop();
      res.destroy();
      cb(err);
    },
  });
  res.pause();
  res.on('data', (chunk: Buffer) => {
    stop();
    opts.received?.(chunk.length);
    if (out.push(chunk)) arm();
    else res.pause();
  });
  res.on('end', () => {
    stop();
    // A body cut short of its Content-Length ends without an error from node:http.
    if (!res.complete) return fail(opts.brokeOff(new Error('the connection closed before the body was complete')));
    settle(true);
    out.push(null);
  });
  res.on('error', (err) => fail(opts.brokeOff(err)));
  res.on('aborted', () => fail(opts.brokeOff(new Error('the connection closed before the body was complete'))));
  return out;
}
