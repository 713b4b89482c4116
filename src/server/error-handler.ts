// Maps errors to responses: WharfErrors and Fastify's own client errors keep their 4xx;
// anything else is a bug, logged with its stack and answered 500.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isWharfError } from '../core/errors.ts';

function wantsJson(req: FastifyRequest): boolean {
  return req.url.startsWith('/-/') || /application\/json/.test(req.headers.accept ?? '');
}

/** A reason phrase may not carry control characters; twine shows it to the user. */
function reasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
}

export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  let status = 500;
  let code = 'INTERNAL';
  let message = 'internal server error';
  let headers: Record<string, string> = {};
  if (isWharfError(err)) {
    status = err.status;
    code = err.code;
    message = err.message;
    headers = err.headers;
  } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    status = err.statusCode;
    code = (err as FastifyError).code ?? 'BAD_REQUEST';
    message = err.message;
  } else if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
    // The client went away mid-request; nothing to answer.
    status = 400;
    code = 'CLIENT_ABORTED';
    message = 'request aborted';
  }
  if (status >= 500) req.log.error({ err }, 'request failed');
  // `reason`, not `msg`: pino's own `msg` is the line's message, and a second one duplicates the key.
  else req.log.info({ code, status, reason: message }, 'request refused');
  if (reply.sent || reply.raw.headersSent) return;
  // Headers set for the content that was to be sent (an immutable file, an index's ETag)
  // must not describe the error: a cache would keep it for a year.
  for (const h of ['cache-control', 'etag', 'last-modified', 'content-length', 'content-encoding', 'content-range', 'accept-ranges', 'content-disposition', 'x-wharf-cache']) reply.removeHeader(h);
  reply.header('cache-control', 'no-store');
  // The message may echo the request (a path, a name): a browser must take it as the text or
  // JSON it is, never sniff it into a page, and run nothing if it did.
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  // The error's own headers (WWW-Authenticate, a 416's Content-Range) after the clean-up.
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  if (status !== 500) reply.raw.statusMessage = reasonPhrase(message);
  reply.code(status);
  if (wantsJson(req)) void reply.type('application/json').send({ error: { code, message } });
  else void reply.type('text/plain; charset=utf-8').send(`${status} ${message}\n`);
}
