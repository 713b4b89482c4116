// An idle timeout for request bodies. Node's requestTimeout covers a whole request, which
// would cut a large upload on a slow link, so it is off; instead a body that receives no
// bytes for `idleMs` is cut: the client gets 408, the request stream is destroyed, and the
// upload's handler sees the error and removes its temp file. A slow but steady body never
// times out. Only the body is watched: the server may think as long as it needs afterwards.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WharfError } from '../../core/errors.ts';

export interface BodyTimeoutLog {
  info(obj: object, msg: string): void;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Watch `req`'s body until it ends; cut it after `idleMs` without a byte. 0 disables. */
export function watchBodyIdle(req: IncomingMessage, res: ServerResponse, idleMs: number, log?: BodyTimeoutLog): void {
  if (idleMs <= 0 || req.complete || !hasBody(req)) return;
  const socket = req.socket;
  let lastBytes = socket.bytesRead;
  let lastProgress = Date.now();
  // Polling the socket's byte count needs no listener on the body, so its flow is untouched.
  const timer = setInterval(() => {
    if (req.complete || req.destroyed || socket.destroyed) return stop();
    if (socket.bytesRead !== lastBytes) {
      lastBytes = socket.bytesRead;
      lastProgress = Date.now();
      return;
    }
    if (Date.now() - lastProgress < idleMs) return;
    stop();
    const seconds = Math.round(idleMs / 1000);
    const err = new WharfError('REQUEST_TIMEOUT', `no bytes of the request body arrived for ${seconds} s`);
    log?.info({ req: { method: req.method, url: req.url }, bytesRead: socket.bytesRead }, 'request body idle: cut');
    if (!res.headersSent) {
      // The answer is written but not ended: the handler still sees the error (its upload is
      // discarded) and Fastify does not take an ended reply for a handled one. The stream is
      // destroyed once the answer is out, so the client can read it.
      const body = `408 ${err.message}\n`;
      res.writeHead(408, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', connection: 'close' });
      res.write(body, () => req.destroy(err));
      setTimeout(() => req.destroy(err), 1000).unref();
    } else {
      req.destroy(err);
    }
  }, Math.min(1000, Math.max(20, idleMs / 5)));
  timer.unref();
  const stop = () => clearInterval(timer);
  req.once('end', stop);
  req.once('close', stop);
}
