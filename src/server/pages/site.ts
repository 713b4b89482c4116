// The URLs a page shows, as the viewer reached this server: the scheme and host of the
// request (X-Forwarded-Proto/-Host only from trusted proxies: Fastify's trustProxy, set from
// trustedProxies), and a repository's own port serving it at the root.
import type { FastifyRequest } from 'fastify';
import type { Repository } from '../../core/model.ts';
import { repoRootOf } from '../http/repo-root.ts';

/** A host as a URL may carry it: name or address, optional port. Anything else is not echoed. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface Site {
  /** `http://host:port/`. */
  server: string;
  /** A repository's URL, ending in `/`. */
  repoUrl(repo: Pick<Repository, 'name'>): string;
  /** A repository's path on this server, for links between pages (they survive a wrong Host). */
  repoPath(repo: Pick<Repository, 'name'>): string;
}

export function siteFor(req: FastifyRequest): Site {
  const proto = req.protocol === 'https' ? 'https' : 'http';
  let host = req.host;
  if (!HOST.test(host)) {
    // A missing or malformed Host: the address the request came in on.
    const local = req.socket.localAddress ?? '127.0.0.1';
    host = `${local.includes(':') ? `[${local}]` : local}:${req.socket.localPort}`;
  }
  const server = `${proto}://${host}/`;
  const root = repoRootOf(req.raw);
  return {
    server,
    repoUrl: (repo) => (repo.name === root ? server : `${server}${encodeURIComponent(repo.name)}/`),
    repoPath: (repo) => (repo.name === root ? '/' : `/${encodeURIComponent(repo.name)}/`),
  };
}
