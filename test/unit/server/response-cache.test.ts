import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ResponseCache } from '../../../src/server/http/response-cache.ts';

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

  it('forgets everything on invalidate and stays within its byte budget', async () => {
    cache.invalidate();
    assert.equal(await (await fetch(`${url}/a/`, { headers: { 'accept-encoding': 'identity' } })).text(), 'from the handler');
    for (let i = 0; i < 20; i++) cache.store(`/b${i}`, '*/*', false, '"x"', {}, Buffer.alloc(100));
    let kept = 0;
    for (let i = 0; i < 20; i++) if ((await (await fetch(`${url}/b${i}`, { headers: { 'accept-encoding': 'identity' } })).text()) !== 'from the handler') kept++;
    assert.ok(kept > 0 && kept <= 10, `kept ${kept}`);
  });
});
