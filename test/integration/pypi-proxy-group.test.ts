// PyPI proxy and group repositories: pip through a group of hosted + proxy, single upstream
// fetches under concurrency, stale service when the upstream is gone, corrupted upstream
// content never stored, and the dependency-confusion guard.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

async function api(server: TestServer, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/-/api/v1${path}`, {
    method, headers: { authorization: server.adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: res.status === 204 ? null : await res.json() };
}

async function uploadWheel(server: TestServer, repo: string, name: string, version: string, requiresDist: string[] = []) {
  const data = buildWheel({ name, version, requiresDist });
  const res = await fetch(`${server.url}/-/api/v1/repositories/${repo}/upload?filename=${wheelFilename({ name, version })}`, {
    method: 'POST', body: data, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
  });
  assert.equal(res.status, 201, await res.text());
  return data;
}

const installed = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.dist-info')).sort();

describe('PyPI proxy and group repositories', () => {
  let upstream: TestServer;
  let local: TestServer;
  let libC: Buffer;

  before(async () => {
    upstream = await startServer();
    await uploadWheel(upstream, 'pypi', 'lib-b', '1.0', ['lib-c>=1']);
    libC = await uploadWheel(upstream, 'pypi', 'lib-c', '1.0');
    await uploadWheel(upstream, 'pypi', 'internal-x', '9.9');
    await uploadWheel(upstream, 'pypi', 'big-file', '1.0');
    local = await startServer();
    assert.equal((await api(local, 'POST', '/repositories', { name: 'local', format: 'pypi' })).status, 201);
    const proxy = await api(local, 'POST', '/repositories', { name: 'up', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, metadataTtl: 0, timeout: 5 } });
    assert.equal(proxy.status, 201, JSON.stringify(proxy.json));
    const group = await api(local, 'POST', '/repositories', { name: 'cu', format: 'pypi', kind: 'group', options: { members: ['local', 'up'], uploadTo: 'local' } });
    assert.equal(group.status, 201, JSON.stringify(group.json));
    await uploadWheel(local, 'local', 'app-a', '1.0', ['lib-b']);
    await uploadWheel(local, 'local', 'internal-x', '1.0');
  });
  after(async () => {
    await local.close();
    await upstream.close().catch(() => {});
  });

  it('refuses bad group and proxy definitions', async () => {
    assert.equal((await api(local, 'POST', '/repositories', { name: 'g2', format: 'pypi', kind: 'group', options: { members: ['nope'] } })).status, 400);
    assert.equal((await api(local, 'POST', '/repositories', { name: 'g3', format: 'pypi', kind: 'group', options: { members: ['up'], uploadTo: 'up' } })).status, 400);
    assert.equal((await api(local, 'POST', '/repositories', { name: 'p2', format: 'pypi', kind: 'proxy', options: { upstream: 'ftp://x/' } })).status, 400);
    assert.equal((await api(local, 'POST', '/repositories', { name: 'p3', format: 'pypi', kind: 'proxy', options: {} })).status, 400);
    assert.equal((await api(local, 'DELETE', '/repositories/up')).status, 409, 'a group member cannot be deleted');
  });

  it('rewrites proxied pages so every file URL points at Wharf, in HTML and JSON', async () => {
    const html = await (await fetch(`${local.url}/up/simple/lib-b/`)).text();
    assert.match(html, /href="\.\.\/\.\.\/packages\/lib-b\/lib_b-1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}"/);
    assert.match(html, /data-core-metadata="sha256=/);
    const json = await (await fetch(`${local.url}/up/simple/lib-b/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json() as { files: { url: string }[] };
    assert.equal(json.files[0].url, '../../packages/lib-b/lib_b-1.0-py3-none-any.whl');
    const api1 = await (await fetch(`${local.url}/up/pypi/lib-b/json`)).json() as { info: { name: string }; urls: { url: string }[] };
    assert.equal(api1.info.name, 'lib-b');
    assert.equal(api1.urls[0].url, '../../packages/lib-b/lib_b-1.0-py3-none-any.whl');
    assert.equal((await fetch(`${local.url}/up/simple/does-not-exist/`)).status, 404);
  });

  it('pip installs through the group, three levels deep, from hosted and proxy members', async () => {
    const target = await mkdtemp(join(tmpdir(), 'wharf-group-'));
    const r = await pip(['install', '--index-url', `${local.url}/cu/simple/`, '--target', target, 'app-a']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await installed(target), ['app_a-1.0.dist-info', 'lib_b-1.0.dist-info', 'lib_c-1.0.dist-info']);
    const cached = await local.wharf.store.repoStats(local.wharf.requireRepo('up').id);
    assert.ok(cached.files >= 2, 'the proxy kept what it fetched');
  });

  it('a hosted project hides the same name in later proxy members unless allow-listed', async () => {
    const page = await (await fetch(`${local.url}/cu/simple/internal-x/`)).text();
    assert.match(page, /internal_x-1\.0-py3-none-any\.whl/);
    assert.doesNotMatch(page, /internal_x-9\.9/);
    const target = await mkdtemp(join(tmpdir(), 'wharf-group-'));
    const r = await pip(['install', '--index-url', `${local.url}/cu/simple/`, '--target', target, 'internal-x']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await installed(target), ['internal_x-1.0.dist-info']);
    assert.equal((await fetch(`${local.url}/cu/packages/internal-x/internal_x-9.9-py3-none-any.whl`)).status, 404);
    assert.equal((await api(local, 'PATCH', '/repositories/cu', { options: { allowlist: ['internal-x'] } })).status, 200);
    assert.match(await (await fetch(`${local.url}/cu/simple/internal-x/`)).text(), /internal_x-9\.9/);
    await api(local, 'PATCH', '/repositories/cu', { options: { allowlist: [] } });
  });

  it('a proxy pointed at another upstream asks it at the next read, not after metadataTtl', async () => {
    // The upstream Wharf has two hosted repositories with different releases of one project.
    assert.equal((await api(upstream, 'POST', '/repositories', { name: 'next', format: 'pypi' })).status, 201);
    await uploadWheel(upstream, 'pypi', 'moved-lib', '1.0');
    await uploadWheel(upstream, 'next', 'moved-lib', '2.0');
    const made = await api(local, 'POST', '/repositories', { name: 'switch', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, metadataTtl: 3600 } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const versions = async () => {
      const target = await mkdtemp(join(tmpdir(), 'wharf-switch-'));
      const r = await pip(['install', '--index-url', `${local.url}/switch/simple/`, '--target', target, 'moved-lib']);
      assert.equal(r.code, 0, r.stderr);
      return installed(target);
    };
    assert.deepEqual(await versions(), ['moved_lib-1.0.dist-info']);
    assert.equal((await api(local, 'PATCH', '/repositories/switch', { options: { upstream: `${upstream.url}/next/simple/` } })).status, 200);
    // The page cached from the old upstream is an hour from expiry: it must not answer for the new one.
    assert.deepEqual(await versions(), ['moved_lib-2.0.dist-info']);
  });

  it('serves a repository at the root of its own port (listen)', async () => {
    assert.equal((await api(local, 'PATCH', '/repositories/cu', { options: { listen: '127.0.0.1:0' } })).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    const port = local.listeners.address('cu')?.port;
    assert.ok(port, 'a listener is up');
    const target = await mkdtemp(join(tmpdir(), 'wharf-group-'));
    const r = await pip(['install', '--index-url', `http://127.0.0.1:${port}/simple/`, '--target', target, 'app-a']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await fetch(`http://127.0.0.1:${port}/-/health`)).status, 200);
    assert.equal((await api(local, 'PATCH', '/repositories/cu', { options: { listen: null } })).status, 200);
  });

  it('uploads to a group land in its hosted member; a proxy refuses uploads', async () => {
    const data = buildWheel({ name: 'via-group', version: '1.0' });
    const res = await fetch(`${local.url}/-/api/v1/repositories/cu/upload?filename=${wheelFilename({ name: 'via-group', version: '1.0' })}`, {
      method: 'POST', body: data, headers: { authorization: local.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 201);
    assert.ok(await local.wharf.store.getPackage(local.wharf.requireRepo('local').id, 'via-group'));
    const p = await fetch(`${local.url}/-/api/v1/repositories/up/upload?filename=${wheelFilename({ name: 'via-group', version: '1.0' })}`, {
      method: 'POST', body: data, headers: { authorization: local.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(p.status, 405);
  });

  it('40 concurrent requests for one uncached file cost one upstream fetch and all get the right bytes', async () => {
    const url = `${local.url}/up/packages/lib-c/lib_c-1.0-py3-none-any.whl`;
    await fetch(`${local.url}/up/simple/lib-c/`); // the page is known; only the file is cold
    const stats = await local.wharf.store.repoStats(local.wharf.requireRepo('up').id);
    const before = upstream.requests.filter((r) => r.method === 'GET' && r.url.endsWith('lib_c-1.0-py3-none-any.whl')).length;
    // lib-c may already be cached by the pip test: use big-file, which nobody fetched yet.
    const coldUrl = `${local.url}/up/packages/big-file/big_file-1.0-py3-none-any.whl`;
    const bodies = await Promise.all(Array.from({ length: 40 }, () => fetch(coldUrl).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }))));
    const fetchesOfBig = upstream.requests.filter((r) => r.method === 'GET' && r.url === '/pypi/packages/big-file/big_file-1.0-py3-none-any.whl').length;
    assert.equal(fetchesOfBig, 1);
    const expected = createHash('sha256').update(bodies[0].body).digest('hex');
    for (const b of bodies) {
      assert.equal(b.status, 200);
      assert.equal(createHash('sha256').update(b.body).digest('hex'), expected);
    }
    assert.ok(stats.files >= 0 && before >= 0);
    const again = await fetch(url);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), libC);
  });

  it('with the upstream stopped, cached installs still work and pages say they are stale', async () => {
    await upstream.close();
    const page = await fetch(`${local.url}/up/simple/lib-b/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-wharf-stale'), 'true');
    const target = await mkdtemp(join(tmpdir(), 'wharf-group-'));
    const r = await pip(['install', '--index-url', `${local.url}/cu/simple/`, '--target', target, 'app-a']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await installed(target), ['app_a-1.0.dist-info', 'lib_b-1.0.dist-info', 'lib_c-1.0.dist-info']);
    assert.equal((await fetch(`${local.url}/up/simple/never-seen/`)).status, 502, 'nothing cached and no upstream');
  });

  it('offline: cached files are served, others are not fetched', async () => {
    assert.equal((await api(local, 'PATCH', '/repositories/up', { options: { offline: true } })).status, 200);
    assert.equal((await fetch(`${local.url}/up/packages/lib-c/lib_c-1.0-py3-none-any.whl`)).status, 200);
    const page = await fetch(`${local.url}/up/simple/lib-b/`);
    assert.equal(page.status, 200);
    assert.equal((await fetch(`${local.url}/up/packages/internal-x/internal_x-9.9-py3-none-any.whl`)).status, 404);
  });
});

describe('a proxy never stores a corrupted file or an error page', () => {
  let origin: Server;
  let originUrl: string;
  let local: TestServer;
  const good = buildWheel({ name: 'shaky', version: '1.0' });
  const sha = createHash('sha256').update(good).digest('hex');
  let mode: 'corrupt' | 'html' | 'good' = 'corrupt';
  let fileFetches = 0;

  before(async () => {
    origin = createServer((req, res) => {
      if (req.url === '/simple/shaky/') {
        res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
        res.end(JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'shaky', files: [{ filename: 'shaky-1.0-py3-none-any.whl', url: '/files/shaky-1.0-py3-none-any.whl', hashes: { sha256: sha } }] }));
      } else if (req.url === '/files/shaky-1.0-py3-none-any.whl') {
        fileFetches++;
        if (mode === 'html') {
          res.setHeader('content-type', 'text/html');
          res.end('<html><body>Service temporarily unavailable</body></html>');
        } else {
          const body = mode === 'corrupt' ? Buffer.concat([good.subarray(0, good.length - 10), Buffer.alloc(10)]) : good;
          res.setHeader('content-type', 'application/octet-stream');
          res.setHeader('content-length', String(body.length));
          res.end(body);
        }
      } else {
        res.statusCode = 404;
        res.end('no');
      }
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
    local = await startServer();
    const res = await api(local, 'POST', '/repositories', { name: 'px', format: 'pypi', kind: 'proxy', options: { upstream: `${originUrl}/simple/` } });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await local.close();
    origin.closeAllConnections();
    origin.close();
  });

  const get = async () => {
    try {
      const r = await fetch(`${local.url}/px/packages/shaky/shaky-1.0-py3-none-any.whl`);
      const body = Buffer.from(await r.arrayBuffer());
      return { ok: r.ok, body };
    } catch {
      return { ok: false, body: Buffer.alloc(0) };
    }
  };
  const cachedFiles = async () => (await local.wharf.store.repoStats(local.wharf.requireRepo('px').id)).files;


  it('a hash mismatch fails the download and stores nothing', async () => {
    const first = await fetch(`${local.url}/px/packages/shaky/shaky-1.0-py3-none-any.whl`).then(async (res) => {
      await res.arrayBuffer().catch(() => {});
      return res;
    }, () => null);
    if (first && !first.ok) assert.equal(first.headers.get('cache-control'), 'no-store', 'an error is never cacheable');
    const r = await get();
    assert.equal(r.ok && r.body.length === good.length, false, 'the client saw the download fail');
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(await cachedFiles(), 0);
  });

  it('an HTML error page answered with 200 is not stored', async () => {
    mode = 'html';
    const r = await get();
    assert.ok(!r.ok || !r.body.equals(good));
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(await cachedFiles(), 0);
  });

  it('the next good response is cached and served from then on', async () => {
    mode = 'good';
    const r = await get();
    assert.ok(r.ok);
    assert.deepEqual(r.body, good);
    await local.wharf.contentCache.settled(); // storing follows the verified download
    assert.equal(await cachedFiles(), 1);
    const n = fileFetches;
    mode = 'corrupt';
    const again = await get();
    assert.deepEqual(again.body, good);
    assert.equal(fileFetches, n, 'served from the cache');
  });
});
