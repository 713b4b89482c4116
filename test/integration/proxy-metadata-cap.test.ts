// Upstream metadata (PyPI pages, APT indexes, Arch dbs, files listings) is read into memory,
// so each answer is capped by the proxy's maxMetadataBytes: an upstream that sends more (or
// announces more in Content-Length) is a failing upstream (502, or the last good copy), not a
// way to fill the server's memory.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';

const CAP = 1024 * 1024;

describe('proxy metadata size cap', () => {
  let server: TestServer;
  let upstream: Server;
  let open = 0;
  let sent = 0;
  before(async () => {
    // Every answer is endless (paced, so a server without a cap is not flooded within the test),
    // except under /announced/, which announces 10 GiB and then trickles.
    upstream = createServer((req, res: ServerResponse) => {
      open++;
      res.once('close', () => open--);
      const type = req.url!.includes('/simple/') ? 'text/html' : 'application/octet-stream';
      if (req.url!.startsWith('/announced/')) {
        res.writeHead(200, { 'content-type': type, 'content-length': String(10 * 1024 ** 3) });
      } else {
        res.writeHead(200, { 'content-type': type });
      }
      const chunk = Buffer.alloc(64 * 1024, '<a href="x-1.0.tar.gz">x-1.0.tar.gz</a>\n');
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        sent += chunk.length;
        res.write(chunk);
      }, 10);
      res.once('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    server = await startServer();
    const create = (body: object) => fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const common = { maxMetadataBytes: CAP, timeout: 5, idleTimeout: 5, maxFails: 0 };
    for (const [name, format, up] of [['pp', 'pypi', `${base}/simple/`], ['pa', 'pypi', `${base}/announced/simple/`], ['ap', 'apt', `${base}/debian/`], ['ar', 'arch', `${base}/arch/`], ['fp', 'files', `${base}/files/`]]) {
      const r = await create({ name, format, kind: 'proxy', public: true, options: { upstream: up, ...common } });
      assert.equal(r.status, 201, await r.text());
    }
  });
  after(async () => {
    await server.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  for (const [what, path] of [
    ['a PyPI page', '/pp/simple/endless/'],
    ['a PyPI page announcing 10 GiB', '/pa/simple/endless/'],
    ['an APT InRelease', '/ap/dists/stable/InRelease'],
    ['an Arch db', '/ar/x86_64/ar.db'],
    ['a files listing', '/fp/dir/'],
  ]) {
    it(`${what} larger than maxMetadataBytes answers 502 at the cap and frees the upstream`, async () => {
      const sentBefore = sent;
      const t0 = Date.now();
      const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      assert.equal(res.status, 502, text);
      assert.match(text, /maxMetadataBytes/);
      assert.ok(Date.now() - t0 < 10_000);
      // Read about up to the cap, not on (allow the socket buffers' worth).
      assert.ok(sent - sentBefore < CAP + 16 * 1024 * 1024, `the upstream sent ${sent - sentBefore} bytes`);
      const deadline = Date.now() + 5_000;
      while (open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(open, 0, 'the upstream connection was closed');
    });
  }
});
