// Repositories with a `listen` option are also served at the root of their own port, so a
// deployment with one index per port (LOCAL_PIP_INDEX_URL=http://host:8126) moves to Wharf
// without changing its clients. Requests are handed to the main app with the repository's
// prefix added; /-/ stays the server's own.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Wharf } from '../core/wharf.ts';
import { markRepoRoot } from './http/repo-root.ts';

export class ExtraListeners {
  private readonly app: FastifyInstance;
  private readonly wharf: Wharf;
  private readonly defaultHost: string;
  private readonly servers = new Map<string, { listen: string; server: Server }>();
  private readonly makeServer: (listener: (req: IncomingMessage, res: ServerResponse) => void) => Server;
  private readonly scheme: string;

  /** The main server's connection limits (send idle timeout, maxConnections), applied to each port. */
  private readonly configure: (server: Server) => void;
  /** Syncs run one at a time; close waits for the one under way (it may still be opening ports). */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  /** `makeServer`: how to make a server for a port (an HTTPS one when TLS is configured). */
  constructor(app: FastifyInstance, wharf: Wharf, defaultHost: string, makeServer?: (listener: (req: IncomingMessage, res: ServerResponse) => void) => Server, configure: (server: Server) => void = () => {}) {
    this.app = app;
    this.wharf = wharf;
    this.defaultHost = defaultHost;
    this.makeServer = makeServer ?? ((listener) => createServer(listener));
    this.scheme = makeServer ? 'https' : 'http';
    this.configure = configure;
  }

  /** Start and stop listeners to match the repositories' `listen` options. */
  sync(): Promise<void> {
    const run = this.queue.then(() => this.syncNow());
    this.queue = run.catch(() => {});
    return run;
  }

  private async syncNow(): Promise<void> {
    if (this.closed) return;
    const wanted = new Map<string, string>();
    for (const r of this.wharf.listRepos()) if (typeof r.options.listen === 'string') wanted.set(r.name, r.options.listen);
    for (const [name, entry] of this.servers) {
      if (wanted.get(name) !== entry.listen) {
        this.servers.delete(name);
        await new Promise<void>((resolve) => entry.server.close(() => resolve()));
        entry.server.closeAllConnections();
      }
    }
    for (const [name, listen] of wanted) {
      if (this.servers.has(name)) continue;
      const m = /^(?:(.+):)?(\d+)$/.exec(listen)!;
      const host = m[1] ?? this.defaultHost;
      const port = Number(m[2]);
      const server = this.makeServer((req, res) => {
        if (!req.url?.startsWith('/-/')) req.url = `/${name}${req.url ?? '/'}`;
        markRepoRoot(req, name);
        this.app.server.emit('request', req, res);
      });
      // The main server's timeouts: Node's default requestTimeout (300 s) would cut long uploads.
      server.requestTimeout = this.app.server.requestTimeout;
      server.keepAliveTimeout = this.app.server.keepAliveTimeout;
      server.headersTimeout = this.app.server.headersTimeout;
      this.configure(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      }).then(
        () => {
          this.servers.set(name, { listen, server });
          this.app.log.info({ repo: name, address: `${this.scheme}://${host}:${port}` }, 'repository also served at the root of its own port');
        },
        (err: Error) => this.app.log.error({ repo: name, listen, err: err.message }, 'cannot listen for repository'),
      );
    }
  }

  /** The HTTP server of a repository's own port, if it listens. */
  server(name: string): Server | undefined {
    return this.servers.get(name)?.server;
  }

  address(name: string): { port: number } | null {
    const s = this.servers.get(name)?.server.address();
    return s && typeof s === 'object' ? { port: s.port } : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    for (const { server } of this.servers.values()) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.servers.clear();
  }
}
