// The plain HTTP port (80 by default): answers ACME HTTP-01 challenges
// (/.well-known/acme-challenge/<token>) and, when asked, redirects everything else to HTTPS.
// It never serves repositories: credentials must not travel in clear text.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';

export class HttpListener {
  /** token -> key authorization, while an order is being validated. */
  readonly challenges = new Map<string, string>();
  private readonly redirectToPort: (() => number) | null;
  private readonly fallbackHost: string;
  private server: Server | null = null;

  /** `redirectToPort`: the HTTPS port to send other requests to, or null to answer 404. */
  constructor(opts: { redirectToPort: (() => number) | null; fallbackHost: string }) {
    this.redirectToPort = opts.redirectToPort;
    this.fallbackHost = opts.fallbackHost;
  }

  async listen(host: string, port: number): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
  }

  get port(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith(CHALLENGE_PATH) && (req.method === 'GET' || req.method === 'HEAD')) {
      const answer = this.challenges.get(url.slice(CHALLENGE_PATH.length));
      if (answer !== undefined) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(answer) });
        res.end(req.method === 'HEAD' ? undefined : answer);
        return;
      }
    }
    if (this.redirectToPort === null) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: this port answers ACME challenges only; use HTTPS.\n');
      return;
    }
    // The name the client used, without its port; a Host that is not a plain name is not echoed.
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d+)?$/.exec(hostHeader);
    const host = m ? m[1] : this.fallbackHost;
    const to = this.redirectToPort();
    const port = to === 443 ? '' : `:${to}`;
    const path = url.startsWith('/') ? url : '/';
    // 308 keeps the method and body (a POST stays a POST).
    res.writeHead(308, { location: `https://${host}${port}${path}`, 'content-length': 0 }).end();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
