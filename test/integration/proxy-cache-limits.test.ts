// Bounded proxy caches: maxCacheBytes evicts the least recently used upstream content after a
// fill crosses it, evictUnusedAfter evicts what no client was served for that long, a
// re-request fetches an evicted file again, and /-/metrics counts hits, misses, evictions.
// WHARF_TEST_DATABASE=postgres runs it on PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, run } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

async function api(server: TestServer, method: string, path: string, body: object): Promise<Response> {
  return fetch(`${server.url}/-/api/v1${path}`, { method, headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function metricsOf(server: TestServer, repo: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/-/metrics`, { headers: { authorization: server.adminAuth } })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^wharf_proxy_cache_(\w+)\{repo="([^"]+)"[^}]*\} (\d+)$/gm)) if (m[2] === repo) out[m[1]] = Number(m[3]);
  return out;
}

const pause = () => new Promise((r) => setTimeout(r, 15));

describe('bounded proxy caches (files proxy, curl)', () => {
  let upstream: TestServer;
  let local: TestServer;
  let work: string;
  const body = (n: string) => Buffer.from(`${n}:`.padEnd(1000, n));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-cache-limits-'));
    upstream = await startServer();
    assert.equal((await api(upstream, 'POST', '/repositories', { name: 'up', format: 'files' })).status, 201);
    for (const n of ['a', 'b', 'c', 'd']) {
      const put = await fetch(`${upstream.url}/up/${n}.bin`, { method: 'PUT', body: body(n), headers: { authorization: upstream.adminAuth } });
      assert.equal(put.status, 201);
    }
    local = await startServer();
    local.wharf.cacheUsage.recordEveryMs = 0; // every use written, so the order is exact at this pace
  });
  after(async () => {
    await local.close();
    await upstream.close();
  });

  const curl = async (name: string) => {
    const r = await run('curl', ['-fsS', '-D', '-', '-o', join(work, name), `${local.url}/fp/${name}`]);
    assert.equal(r.code, 0, r.stderr);
    // A fetched file is stored (its caching is its first use) after its client has the bytes.
    await local.wharf.contentCache.settled();
    await pause();
    return /x-wharf-cache: (\w+)/i.exec(r.stdout)?.[1];
  };
  const cached = async () => (await local.wharf.store.listFilesByPrefix(local.wharf.requireRepo('fp').id, '')).map((f) => f.path).sort();
  // The client has its bytes before the file is stored; the eviction the fill starts follows.
  const settledEviction = async () => {
    await local.wharf.contentCache.settled();
    await local.wharf.cacheUsage.settled();
  };
  const upstreamGets = (name: string) => upstream.requests.filter((r) => r.method === 'GET' && r.url === `/up/${name}`).length;

  it('refuses bad limits with a 400', async () => {
    for (const options of [{ maxCacheBytes: 'lots' }, { maxCacheBytes: -1 }, { evictUnusedAfter: '30 days' }, { evictUnusedAfter: 0 }]) {
      const res = await api(local, 'POST', '/repositories', { name: 'bad', format: 'files', kind: 'proxy', options: { upstream: `${upstream.url}/up/`, ...options } });
      assert.equal(res.status, 400, JSON.stringify(options));
      assert.match(await res.text(), /maxCacheBytes|evictUnusedAfter/);
    }
    assert.equal(local.wharf.repo('bad'), undefined);
  });

  it('evicts the least recently used after a fill crosses maxCacheBytes; a re-request fetches again', async () => {
    const res = await api(local, 'POST', '/repositories', { name: 'fp', format: 'files', kind: 'proxy', options: { upstream: `${upstream.url}/up/`, timeout: 5, maxCacheBytes: 2500 } });
    assert.equal(res.status, 201, await res.text());
    assert.equal(await curl('a.bin'), 'miss');
    assert.equal(await curl('b.bin'), 'miss');
    assert.equal(await curl('a.bin'), 'hit'); // a is now used more recently than b
    assert.equal(await curl('c.bin'), 'miss'); // 3000 bytes > 2500: b goes
    await settledEviction();
    assert.deepEqual(await cached(), ['a.bin', 'c.bin']);
    let m = await metricsOf(local, 'fp');
    assert.deepEqual({ hits: m.hits_total, misses: m.misses_total, evictions: m.evictions_total, bytes: m.bytes }, { hits: 1, misses: 3, evictions: 1, bytes: 2000 });

    assert.equal(await curl('a.bin'), 'hit'); // a is used again: c is now the least recently used
    assert.equal(await curl('b.bin'), 'miss'); // evicted: fetched from the upstream again
    assert.equal(upstreamGets('b.bin'), 2);
    await settledEviction();
    assert.deepEqual(await cached(), ['a.bin', 'b.bin'], 'c was used less recently than a');
    assert.equal((await metricsOf(local, 'fp')).hits_total, 2);
    m = await metricsOf(local, 'fp');
    assert.equal(m.evictions_total, 2);
    assert.equal(m.evicted_bytes_total, 2000);
  });

  it('evicts what was not used for evictUnusedAfter, on the scheduler sweep', async () => {
    const res = await api(local, 'PATCH', '/repositories/fp', { options: { maxCacheBytes: null, evictUnusedAfter: '1d' } });
    assert.equal(res.status, 200, await res.text());
    assert.equal(await curl('d.bin'), 'miss');
    await settledEviction();
    const repos = local.wharf.listRepos();
    await local.wharf.cacheUsage.tick(repos, Date.now(), 0);
    assert.deepEqual(await cached(), ['a.bin', 'b.bin', 'd.bin'], 'nothing is a day old yet');
    // The same bytes as a.bin in a hosted repository: its blob must outlive a.bin's eviction.
    assert.equal((await api(local, 'POST', '/repositories', { name: 'keep', format: 'files' })).status, 201);
    const put = await fetch(`${local.url}/keep/copy-of-a.bin`, { method: 'PUT', body: body('a'), headers: { authorization: local.adminAuth } });
    assert.equal(put.status, 201);
    await local.wharf.cacheUsage.tick(repos, Date.now() + 2 * 86_400_000, 0);
    assert.deepEqual(await cached(), []);
    assert.equal((await metricsOf(local, 'fp')).evictions_total, 5);
    const gc = await local.wharf.gc({ graceMs: 0 });
    assert.equal(gc.blobs, 3, 'the blobs of b.bin, c.bin and d.bin are freed; a.bin\'s is still referenced');
    const copy = await fetch(`${local.url}/keep/copy-of-a.bin`);
    assert.equal(copy.status, 200);
    assert.deepEqual(Buffer.from(await copy.arrayBuffer()), body('a'));
  });
});

describe('bounded proxy caches (PyPI proxy, pip)', () => {
  let upstream: TestServer;
  let local: TestServer;
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-cache-limits-pip-'));
    upstream = await startServer();
    for (const name of ['one', 'two', 'three']) {
      const res = await fetch(`${upstream.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name, version: '1.0' })}`, {
        method: 'POST', body: buildWheel({ name, version: '1.0' }), headers: { authorization: upstream.adminAuth, 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201);
    }
    local = await startServer();
    local.wharf.cacheUsage.recordEveryMs = 0;
    const res = await api(local, 'POST', '/repositories', { name: 'pp', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, timeout: 5 } });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await local.close();
    await upstream.close();
  });

  const install = async (name: string, dir: string) => {
    const r = await pip(['install', '--index-url', `${local.url}/pp/simple/`, '--target', join(work, dir), name]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await local.wharf.contentCache.settled();
    await pause();
  };
  const dists = async () => (await local.wharf.store.listFilesByPrefix(local.wharf.requireRepo('pp').id, 'packages/'))
    .filter((f) => f.meta.kind === 'dist').map((f) => f.filename).sort();

  it('keeps the most recently used project within maxCacheBytes; pip installs an evicted one again', async () => {
    await install('one', 'a');
    await install('two', 'b');
    await install('three', 'c');
    await install('one', 'd'); // served from the cache: one is now the most recently used
    const repo = local.wharf.requireRepo('pp');
    const oneBytes = (await local.wharf.store.listFilesByPrefix(repo.id, 'packages/one/')).reduce((n, f) => n + f.size, 0);
    const res = await api(local, 'PATCH', '/repositories/pp', { options: { maxCacheBytes: oneBytes } });
    assert.equal(res.status, 200, await res.text());
    await local.wharf.cacheUsage.tick(local.wharf.listRepos(), Date.now(), 0);
    assert.deepEqual(await dists(), ['one-1.0-py3-none-any.whl']);
    const m = await metricsOf(local, 'pp');
    assert.ok(m.hits_total >= 1, JSON.stringify(m));
    assert.ok(m.evictions_total >= 2, JSON.stringify(m));
    assert.equal(m.bytes, oneBytes);

    const wheel = '/pypi/packages/two/two-1.0-py3-none-any.whl';
    const before = upstream.requests.filter((r) => r.url.endsWith(wheel)).length;
    await install('two', 'e');
    assert.ok((await readdir(join(work, 'e'))).includes('two-1.0.dist-info'));
    assert.equal(upstream.requests.filter((r) => r.url.endsWith(wheel)).length, before + 1, 'fetched from the upstream again');
  });
});
