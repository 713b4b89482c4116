// The mirror's pages and verified files served on 127.0.0.1 for the length of a migration: the
// new proxy repository reads them as its upstream, so Wharf's own proxy path (page parsing,
// sha256 check against the page, caching) fills its cache. Only files the migration checked
// are served; everything else answers 404.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { MirrorProject } from './mirror-tree.ts';

export interface TreeServer {
  url: string;
  close(): Promise<void>;
}

export async function serveTree(web: string, projects: MirrorProject[], files: Map<string, string>): Promise<TreeServer> {
  const pages = new Map(projects.map((p) => [p.name, p.pageDir]));
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const send404 = () => {
      res.statusCode = 404;
      res.end('not found');
    };
    const page = /^\/simple\/([^/]+)\/$/.exec(path);
    if (page && pages.has(page[1])) {
      const dir = join(web, pages.get(page[1])!);
      readFile(join(dir, 'index.v1_json')).then((body) => {
        res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
        res.end(body);
      }, () => readFile(join(dir, 'index.html')).then((body) => {
        res.setHeader('content-type', 'text/html');
        res.end(body);
      }, send404));
      return;
    }
    const local = files.get(path);
    if (!local) return send404();
    res.setHeader('content-type', 'application/octet-stream');
    createReadStream(local).on('error', () => res.destroy()).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
