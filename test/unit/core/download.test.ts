// Upstream downloads over node:http: redirects (credentials only to their origin), stalls
// while the reader waits, no stall charged to a slow reader, bodies cut short, error answers.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { download, type DownloadOptions } from '../../../src/core/proxy/download.ts';

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function options(over: Partial<DownloadOptions> = {}): DownloadOptions & { settledWith: boolean[] } {
  const settledWith: boolean[] = [];
  return {
    headers: { 'user-agent': 'test' },
    signal: new AbortController().signal,
    idleMs: 300,
    stalled: () => new Error('stalled'),
    brokeOff: (cause) => new Error(`broke off: ${cause.message}`),
    settled: (complete) => settledWith.push(complete),
    settledWith,
    ...over,
  };
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('upstream downloads', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.closeAllConnections();
    for (const s of servers) s.close();
  });
  const start = async (h: (req: IncomingMessage, res: ServerResponse) => void) => {
    const s = await serve(h);
    servers.push(s.server);
    return s.url;
  };

  it('follows redirects, sending credentials only to their own origin', async () => {
    const seen: Record<string, string | undefined> = {};
    const cdn = await start((req, res) => {
      seen.cdn = req.headers.authorization;
      res.end('from the cdn');
    });
    const origin = await start((req, res) => {
      seen[req.url!] = req.headers.authorization;
      if (req.url === '/a') return res.writeHead(302, { location: '/b' }).end();
      if (req.url === '/b') return res.writeHead(301, { location: `${cdn}/file` }).end();
      res.writeHead(404).end();
    });
    const o = options({ authorization: { origin, value: 'Basic c2VjcmV0' } });
    const d = await download(new URL(`${origin}/a`), o);
    assert.equal(d.status, 200);
    assert.equal(d.url, `${cdn}/file`);
    assert.equal((await readAll(d.body!)).toString(), 'from the cdn');
    assert.deepEqual(seen, { '/a': 'Basic c2VjcmV0', '/b': 'Basic c2VjcmV0', cdn: undefined });
    assert.deepEqual(o.settledWith, [true]);
  });

  it('an error answer has no body to read', async () => {
    const url = await start((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('nope'));
    const d = await download(new URL(`${url}/x`), options());
    assert.equal(d.status, 404);
    assert.equal(d.ok, false);
    assert.equal(d.body, null);
    assert.equal(d.headers.get('content-type'), 'text/plain');
  });

  it('a body that stops arriving while its reader waits fails as stalled', async () => {
    const url = await start((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('x'.repeat(10));
    });
    const o = options();
    const d = await download(new URL(`${url}/x`), o);
    await assert.rejects(readAll(d.body!), /stalled/);
    assert.deepEqual(o.settledWith, [false]);
  });

  it('a reader slower than idleMs is not a stall of the upstream', async () => {
    const data = Buffer.alloc(4 * 1024 * 1024, 1);
    const url = await start((_req, res) => res.writeHead(200, { 'content-length': String(data.length) }).end(data));
    const o = options({ idleMs: 200 });
    const d = await download(new URL(`${url}/x`), o);
    let got = 0;
    for await (const c of d.body!) {
      got += (c as Buffer).length;
      if (got === (c as Buffer).length) await new Promise((r) => setTimeout(r, 600));
    }
    assert.equal(got, data.length);
    assert.deepEqual(o.settledWith, [true]);
  });

  it('a body cut short of its Content-Length fails as broken off', async () => {
    const url = await start((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100), () => req.socket.destroy());
    });
    const o = options();
    const d = await download(new URL(`${url}/x`), o);
    await assert.rejects(readAll(d.body!), /broke off/);
    assert.deepEqual(o.settledWith, [false]);
  });

  it('too many redirects is an error', async () => {
    const url = await start((_req, res) => res.writeHead(302, { location: '/again' }).end());
    await assert.rejects(download(new URL(`${url}/x`), options()), /redirects/);
  });
});
