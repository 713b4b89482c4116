// Names that come from URLs and form fields are checked after percent-decoding (issue 8,
// defect 14): an APT component `a%2fb` was stored under pool/a/b/ though docs/apt.md says
// `/` is refused. And Arch's `list` action is a read: readers may list.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, control } from '../helpers/apt.ts';
import { basic, startServer, type TestServer } from '../helpers/server.ts';

describe('names from URLs and fields, and who may list an Arch repository', () => {
  let server: TestServer;
  let dir: string;
  let deb: Buffer;

  const api = async (method: string, url: string, body?: unknown, auth = server.adminAuth) => {
    const res = await fetch(`${server.url}/-/api/v1${url}`, {
      method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  const rawPut = (urlPath: string, body: Buffer) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: urlPath, headers: { authorization: server.adminAuth, 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-names-'));
    deb = await readFile(await buildDeb(dir, 'good', control('good', '1.0-1')));
    assert.equal((await api('POST', '/repositories', { name: 'deb', format: 'apt' })).status, 201);
    assert.equal((await api('POST', '/repositories', { name: 'arch', format: 'arch', public: false })).status, 201);
    assert.equal((await api('POST', '/users', { name: 'reader', password: 'reader-password-1' })).status, 201);
    assert.equal((await api('PUT', '/users/reader/grants', { repo: 'arch', permission: 'read' })).status, 200);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('APT components and suites with an encoded "/", "..", "\\" or NUL are refused and nothing is stored', async () => {
    const repo = server.wharf.requireRepo('deb');
    const urls = [
      'upload/stable/a%2fb/', 'upload/stable/a%2Fb/', 'upload/stable/%2e%2e/', 'upload/stable/a%5cb/', 'upload/stable/a%00b/',
      'upload/stable/a%252fb/', 'upload/a%2fb/main/', 'upload/%2e%2e/main/', 'upload/stable/main%2f..%2f..%2fx/',
    ];
    for (const url of urls) {
      // node:http sends the path as written (fetch would resolve %2e%2e first).
      const res = await rawPut(`/deb/${url}`, deb);
      assert.equal(res.status, 400, `${url}: ${res.status} ${res.text}`);
    }
    // The same names as API upload parameters and as multipart uploads.
    for (const [suite, component] of [['stable', 'a/b'], ['stable', '../x'], ['a/b', 'main']]) {
      const q = new URLSearchParams({ filename: 'good_1.0-1_amd64.deb', suite, component });
      const res = await fetch(`${server.url}/-/api/v1/repositories/deb/upload?${q}`, { method: 'POST', body: deb, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' } });
      assert.equal(res.status, 400, `${suite} ${component}: ${await res.text()}`);
    }
    const form = new FormData();
    form.append('file', new Blob([deb]), 'good_1.0-1_amd64.deb');
    const mp = await fetch(`${server.url}/deb/upload/stable/a%2fb/`, { method: 'POST', body: form, headers: { authorization: server.adminAuth } });
    assert.equal(mp.status, 400, await mp.text());
    // A repository option naming such a component is refused as well.
    assert.equal((await api('PATCH', '/repositories/deb', { options: { defaultComponent: 'a/b' } })).status, 400);
    assert.equal((await server.wharf.store.repoStats(repo.id)).files, 0);
    // One good upload still lands where docs/apt.md says.
    const ok = await fetch(`${server.url}/deb/upload/stable/main/`, { method: 'PUT', body: deb, headers: { authorization: server.adminAuth } });
    assert.equal(ok.status, 201, await ok.text());
    assert.deepEqual((await server.wharf.store.listFilesByPrefix(repo.id, 'pool/')).map(
(f) => f.path), ['pool/main/g/good/good_1.0-1_amd64.deb']);
  });

  it('a reader may run the Arch list action, not clean', async () => {
    const auth = basic('reader', 'reader-password-1');
    const list = await api('POST', '/repositories/arch/actions/list', {}, auth);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(JSON.parse(list.text), { packages: [] });
    assert.equal((await api('POST', '/repositories/arch/actions/clean', { dryRun: true }, auth)).status, 403);
    assert.equal((await api('POST', '/repositories/arch/actions/add', { filename: 'x-1-1-any.pkg.tar.zst' }, auth)).status, 403);
    // Anonymous callers of a private repository still get 401.
    assert.equal((await fetch(`${server.url}/-/api/v1/repositories/arch/actions/list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
  });
});
