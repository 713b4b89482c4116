// Request bodies a client gets wrong (issue 8, defect 11): malformed multipart answers a
// clear 400 on every multipart upload route, and a body that stops arriving is cut after
// `bodyIdleTimeout` seconds with its temp file removed, while a slow but steady upload
// still succeeds.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';

const MULTIPART_ROUTES = ['/pypi/', '/pypi/legacy/', '/deb/upload/stable/main/', '/arch/upload/'];

describe('request bodies: malformed multipart and stalled uploads', () => {
  let server: TestServer;

  const tmpFiles = () => readdir(path.join(server.data, 'blobs', 'tmp'));
  const api = (method: string, url: string, body: unknown) => fetch(`${server.url}/-/api/v1${url}`, {
    method, headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  before(async () => {
    server = await startServer({ bodyIdleTimeout: 1 });
    for (const [name, format] of [['deb', 'apt'], ['arch', 'arch'], ['files', 'files']]) {
      assert.equal((await api('POST', '/repositories', { name, format })).status, 201);
    }
  });
  after(async () => server.close());

  it('malformed multipart bodies answer 400 on every multipart upload route', async () => {
    const part = '--XX\r\nContent-Disposition: form-data; name="content"; filename="demo-1.0.tar.gz"\r\nContent-Type: application/octet-stream\r\n\r\n';
    const cases: [string, string, string][] = [
      ['no boundary', 'multipart/form-data', 'whatever'],
      ['garbage body', 'multipart/form-data; boundary=XX', 'this is not multipart at all'],
      ['truncated in a file part', 'multipart/form-data; boundary=XX', `${part}abcdef`],
      ['truncated in part headers', 'multipart/form-data; boundary=XX', '--XX\r\nContent-Disposition: form-da'],
      ['boundary longer than allowed', `multipart/form-data; boundary=${'b'.repeat(300)}`, `--${'b'.repeat(300)}\r\n`],
      ['part headers without a name', 'multipart/form-data; boundary=XX', '--XX\r\nContent-Type: text/plain\r\n\r\nx\r\n--XX--\r\n'],
    ];
    for (const route of MULTIPART_ROUTES) {
      for (const [label, type, body] of cases) {
        const res = await fetch(`${server.url}${route}`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': type }, body });
        const text = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `${route} ${label}: ${res.status} ${text}`);
      }
      // The messages busboy raises are named as the client's mistake, with 400.
      const cut = await fetch(`${server.url}${route}`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'multipart/form-data; boundary=XX' }, body: `${part}abcdef` });
      assert.equal(cut.status, 400, route);
      assert.match(await cut.text(), /malformed multipart/i);
    }
    assert.deepEqual(await tmpFiles(), []);
    assert.equal((await fetch(`${server.url}/-/health`)).status, 200);
  });

  it('a body that stops arriving is cut with 408 and leaves no temp file, on every upload route', async () => {
    const auth = `Authorization: ${server.adminAuth}\r\n`;
    const mp = '--XX\r\nContent-Disposition: form-data; name="content"; filename="demo-1.0.tar.gz"\r\n\r\n';
    const stalls: [string, string][] = [
      ['files PUT', `PUT /files/stalled.bin HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1000000\r\n\r\n`],
      ['apt PUT', `PUT /deb/upload/stable/main/x.deb HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1000000\r\n\r\n`],
      ['arch PUT', `PUT /arch/upload/x-1-1-any.pkg.tar.zst HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1000000\r\n\r\n`],
      ['API upload', `POST /-/api/v1/repositories/files/upload?filename=x.bin HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n`],
      ['twine multipart', `POST /pypi/ HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1000000\r\n\r\n${mp}`],
      ['chunked PUT', `PUT /files/chunked.bin HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n1000\r\n`],
    ];
    await Promise.all(stalls.map(async ([label, head]) => {
      const started = Date.now();
      const sock = net.connect(server.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('error', () => {});
      sock.write(head + 'a'.repeat(4096));
      // The server must end the exchange by itself; the client never sends the rest.
      await new Promise<void>((resolve) => {
        const guard = setTimeout(() => { sock.destroy(); resolve(); }, 15_000);
        sock.on('close', () => { clearTimeout(guard); resolve(); });
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 12_000, `${label}: the server held a stalled body for ${elapsed} ms`);
      assert.match(got, /^HTTP\/1\.1 408/, `${label}: ${JSON.stringify(got.slice(0, 120))}`);
    }));
    // The temp files are removed once the handlers have seen the abort.
    for (let i = 0; i < 50 && (await tmpFiles()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await tmpFiles(), []);
    assert.equal((await server.wharf.store.repoStats(server.wharf.requireRepo('files').id)).files, 0);

  });

  it('a slow but steady upload that takes longer than the idle timeout succeeds', async () => {
    const data = randomBytes(20 * 16 * 1024);
    const head = `PUT /files/slow.bin HTTP/1.1\r\nHost: x\r\nAuthorization: ${server.adminAuth}\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`;
    const sock = net.connect(server.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.write(head);
    // 20 chunks 200 ms apart: 4 s in all, four times the idle timeout, never idle for 1 s.
    for (let i = 0; i < 20; i++) {
      sock.write(data.subarray(i * 16 * 1024, (i + 1) * 16 * 1024));
      await new Promise((r) => setTimeout(r, 200));
    }
    await closed;
    assert.match(got, /^HTTP\/1\.1 201/, got.slice(0, 200));
    const res = await fetch(`${server.url}/files/slow.bin`);
    assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), createHash('sha256').update(data).digest('hex'));
  });

  it('a repository on a port of its own (listen) has the same body timeout and no overall request timeout', async () => {
    assert.equal((await api('POST', '/repositories', { name: 'own', format: 'files', options: { listen: '127.0.0.1:0' } })).status, 201);
    let port = 0;
    for (let i = 0; i < 50 && !port; i++) {
      port = server.listeners.address('own')?.port ?? 0;
      if (!port) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(port > 0, 'the extra listener did not start');
    // Node's default requestTimeout (300 s) would cut a long upload on this port.
    const own = server.listeners.server('own')!;
    assert.equal(own.requestTimeout, server.app.server.requestTimeout);
    assert.equal(own.requestTimeout, 0);
    assert.equal(own.keepAliveTimeout, server.app.server.keepAliveTimeout);
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('error', () => {});
    sock.write(`PUT /stalled.bin HTTP/1.1\r\nHost: x\r\nAuthorization: ${server.adminAuth}\r\nContent-Length: 100000\r\n\r\nabc`);
    await new Promise<void>((resolve) => {
      const guard = setTimeout(() => { sock.destroy(); resolve(); }, 15_000);
      sock.on('close', () => { clearTimeout(guard); resolve(); });
    });
    assert.match(got, /^HTTP\/1\.1 408/);
  });

  it('a kept-alive connection idle between requests longer than the body timeout still works', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    const answers = async (n: number) => {
      for (let i = 0; i < 100 && (got.match(/HTTP\/1\.1 \d{3}/g) ?? []).length < n; i++) await new Promise((r) => setTimeout(r, 50));
      return (got.match(/HTTP\/1\.1 (\d{3})/g) ?? []).map((l) => l.slice(9));
    };
    sock.write(`PUT /files/ka.bin HTTP/1.1\r\nHost: x\r\nAuthorization: ${server.adminAuth}\r\nContent-Length: 3\r\n\r\nabc`);
    assert.deepEqual(await answers(1), ['201']);
    await new Promise((r) => setTimeout(r, 2000));
    sock.write('GET /files/ka.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(await answers(2), ['201', '200']);
    sock.destroy();
  });
});
