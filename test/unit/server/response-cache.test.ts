import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ResponseCache, siteOf } from '../../../src/server/http/response-cache.ts';
import { request } from 'node:http';

describe('ResponseCache', () => {
  const cache = new ResponseCache(1024);
  let server: Server;
  let url: string;
  let handled = 0;

  before(async () => {
    server = createServer((req, res) => {
      if (cache.tryServe(req, res)) return;
      handled++;
      res.end('from the handler');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  it('answers stored anonymous GETs, 304s, and nothing else', async () => {
    cache.store('/a/', '*/*', false, '"e1"', { 'content-type': 'text/plain', etag: '"e1"', 'content-length': '6' }, Buffer.from('cached'));
    assert.equal(await (await fetch(`${url}/a/`, { headers: { 'accept-encoding': 'identity' } })).text(), 'cached');
    const nm = await fetch(`${url}/a/`, { headers: { 'if-none-match': '"e1"', 'accept-encoding': 'identity' } });
    assert.equal(nm.status, 304);
    const before = handled;
    await (await fetch(`${url}/a/`, { headers: { authorization: 'Bearer x', 'accept-encoding': 'identity' } })).text();
    await (await fetch(`${url}/a/`, { headers: { accept: 'application/json', 'accept-encoding': 'identity' } })).text(); // fetch sends */* otherwise
    await (await fetch(`${url}/a/`, { headers: { 'accept-encoding': 'gzip' } })).text();
    await (await fetch(`${url}/a/`, { headers: { range: 'bytes=0-1', 'accept-encoding': 'identity' } })).text();
    await (await fetch(`${url}/a/`, { method: 'POST', headers: { 'accept-encoding': 'identity' } })).text();
    assert.equal(handled - before, 5, 'credentials, another Accept or encoding, Range and POST go to the handler');
  });

  it('does not keep an answer begun before a change it may predate', async () => {
    const slow = new ResponseCache(1024 * 1024);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let built = 0;
    const srv = createServer(async (req, res) => {
      if (slow.tryServe(req, res)) return;
      const body = `built ${++built}`;
      // A publish lands while this answer is being built from the old state.
      if (built === 1) await gate;
      slow.store(req.url!, req.headers.accept, false, `"${built}"`, { 'content-type': 'text/plain' }, Buffer.from(body), Infinity, undefined, req);
      res.end(body);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const at = `http://127.0.0.1:${(srv.address() as { port: number }).port}/x`;
    try {
      const first = fetch(at, { headers: { 'accept-encoding': 'identity' } }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 50));
      slow.invalidate();
      release();
      assert.equal(await first, 'built 1');
      assert.equal(await (await fetch(at, { headers: { 'accept-encoding': 'identity' } })).text(), 'built 2', 'the pre-change answer was not kept');
      assert.equal(await (await fetch(at, { headers: { 'accept-encoding': 'identity' } })).text(), 'built 2', 'an answer begun after the change is kept');
    } finally {
      srv.close();
    }
  });

  it('forgets everything on invalidate and stays within its byte budget', async () => {
    cache.invalidate();
    assert.equal(await (await fetch(`${url}/a/`, { headers: { 'accept-encoding': 'identity' } })).text(), 'from the handler');
    for (let i = 0; i < 20; i++) cache.store(`/b${i}`, '*/*', false, '"x"', {}, Buffer.alloc(100));
    let kept = 0;
    for (let i = 0; i < 20; i++) if ((await (await fetch(`${url}/b${i}`, { headers: { 'accept-encoding': 'identity' } })).text()) !== 'from the handler') kept++;
    assert.ok(kept > 0 && kept <= 10, `kept ${kept}`);
  });

  it('counts keys and headers in its budget: many Accept variants of a small page stay bounded', () => {
    const budget = 1024 * 1024;
    const c = new ResponseCache(budget);
    const headers = { 'content-type': 'text/html', etag: '"e"', vary: 'Accept, Accept-Encoding', 'cache-control': 'public, max-age=0, must-revalidate', 'last-modified': new Date(0).toUTCString() };
    const body = Buffer.from('<html>tiny</html>');
    // A client can send any Accept header (up to the header size limit) and each one is a key.
    for (let i = 0; i < 20_000; i++) c.store('/pypi/simple/x/', `text/html;q=0.${i}, ${'a'.repeat(1000)}`, false, '"e"', headers, body);
    assert.ok(c.size <= budget, `accounted ${c.size}`);
    assert.ok(c.count * 2 * 1000 <= budget, `${c.count} entries with 1,000-character keys exceed the budget of ${budget} bytes`);
    // Large bodies too.
    for (let i = 0; i < 100; i++) c.store(`/big${i}`, '*/*', false, '"e"', headers, Buffer.alloc(100 * 1024));
    assert.ok(c.size <= budget && c.count * 100 * 1024 <= budget, `${c.count} entries of 100 KiB`);
  });

  it('serves an answer that names the server\'s URL only to requests with the same Host and forwarded headers', async () => {
    cache.invalidate();
    const host = new URL(url).host;
    cache.store('/page/', 'text/html', false, '"p"', { 'content-type': 'text/html' }, Buffer.from(`page for ${host}`), Infinity, siteOf({ host }));
    const get = (headers: Record<string, string>) => new Promise<string>((resolve, reject) => {
      const req = request(`${url}/page/`, { headers: { accept: 'text/html', ...headers } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await get({}), `page for ${host}`);
    assert.equal(await get({ host: 'evil.example' }), 'from the handler');
    assert.equal(await get({ 'x-forwarded-host': 'evil.example' }), 'from the handler');
    assert.equal(await get({ 'x-forwarded-proto': 'https' }), 'from the handler');
  });
});
