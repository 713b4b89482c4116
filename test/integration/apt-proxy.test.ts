// APT proxy repositories: apt-get updates and installs through a proxy of another Wharf
// (signed by the upstream's key), keeps working from the cache when the upstream is gone,
// never stores a pool file whose bytes disagree with the upstream's Packages index, and
// fetches a file once for many concurrent clients.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function api(server: TestServer, p: string, init: RequestInit = {}) {
  return fetch(`${server.url}/-/api/v1${p}`, { ...init, headers: { authorization: server.adminAuth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
}

async function createRepo(server: TestServer, body: object) {
  const res = await api(server, '/repositories', { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.text());
}

async function upload(server: TestServer, repo: string, file: string) {
  const res = await fetch(`${server.url}/${repo}/upload/stable/main/`, { method: 'PUT', body: await readFile(file), headers: { authorization: server.adminAuth } });
  assert.equal(res.status, 201, await res.text());
}

const assertClean = (r: { code: number; stdout: string; stderr: string }) => {
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(problems(r), [], `${r.stdout}\n${r.stderr}`);
};

describe('APT proxy repositories', () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  let keyFile: string;
  const proxyId = () => local.wharf.repo('debproxy')!.id;
  const LIB = 'pool/main/libw/libwharf/libwharf1_1.0-1_all.deb';
  const APP = 'pool/main/w/wharf-hello/wharf-hello_1.0-1_amd64.deb';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-proxy-'));
    upstream = await startServer();
    await createRepo(upstream, { name: 'deb', format: 'apt' });
    await upload(upstream, 'deb', await buildDeb(dir, 'libwharf1', control('libwharf1', '1.0-1', 'Source: libwharf\nSection: libs\n', 'all')));
    await upload(upstream, 'deb', await buildDeb(dir, 'wharf-hello', control('wharf-hello', '1:1.0-1', 'Depends: libwharf1 (>= 1.0)\nSection: utils\n')));
    const key = await fetch(`${upstream.url}/deb/key.asc`);
    assert.equal(key.status, 200);
    keyFile = path.join(dir, 'upstream-key.asc');
    await writeFile(keyFile, await key.text());
    local = await startServer();
    // metadataTtl 0: every dists/ request revalidates, so the stale path is exercised.
    await createRepo(local, { name: 'debproxy', format: 'apt', kind: 'proxy', options: { upstream: `${upstream.url}/deb/`, metadataTtl: 0, negativeTtl: 60, timeout: 5 } });
  });
  after(async () => {
    await local?.close();
    await upstream?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses unknown options, uploads and key.asc on a proxy', async () => {
    const bad = await api(local, '/repositories', { method: 'POST', body: JSON.stringify({ name: 'x', format: 'apt', kind: 'proxy', options: { upstream: 'http://127.0.0.1:1/', suites: {} } }) });
    assert.equal(bad.status, 400);
    const key = await fetch(`${local.url}/debproxy/key.asc`);
    assert.equal(key.status, 404);
    assert.match(await key.text(), /upstream's key/);
    const put = await fetch(`${local.url}/debproxy/upload/stable/main/`, { method: 'PUT', body: 'x', headers: { authorization: local.adminAuth } });
    assert.equal(put.status, 405);
  });

  it('apt-get update and install with a dependency through the proxy, with the upstream key', async () => {
    const env = await aptEnv(path.join(dir, 'a'), { url: `${local.url}/debproxy`, suite: 'stable', component: 'main', keyFile });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    // apt took the Packages index by hash: cached as content, verified against its name.
    assert.ok(local.requests.some((r) => /\/debproxy\/dists\/stable\/main\/binary-amd64\/by-hash\/SHA512\//.test(r.url) && r.status === 200), 'by-hash fetch');
    assertClean(await env.apt('apt-get', 'install', '-y', '--download-only', 'wharf-hello'));
    const debs = (await readdir(path.join(env.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')).sort();
    assert.deepEqual(debs, ['libwharf1_1.0-1_all.deb', 'wharf-hello_1%3a1.0-1_amd64.deb']);
    // Both .debs are cached, checked against the SHA256 the upstream's Packages lists (storing
    // follows each verified download).
    await local.wharf.contentCache.settled();
    for (const p of [LIB, APP]) {
      const f = await local.wharf.store.getFileByPath(proxyId(), p);
      assert.ok(f, p);
      assert.equal(f.meta.verified, 'sha256');
      assert.equal(f.sha256, (await upstream.wharf.store.getFileByPath(upstream.wharf.repo('deb')!.id, p))!.sha256);
    }
    const stats = await local.wharf.store.repoStats(proxyId());
    assert.equal(stats.packages, 2);
    assert.ok(stats.files >= 3, 'two .debs and the by-hash index');
    const before = upstream.requests.length;
    const again = await fetch(`${local.url}/debproxy/${APP}`);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-wharf-cache'), 'hit');
    await again.arrayBuffer();
    assert.equal(upstream.requests.length, before, 'a cached .deb costs no upstream request');
  });

  it('20 concurrent requests for one uncached .deb cost one upstream fetch', async () => {
    const file = await buildDeb(dir, 'wharf-extra', control('wharf-extra', '2.0-1'));
    await upload(upstream, 'deb', file);
    const bytes = await readFile(file);
    // The proxy learns the new file's hash from the refreshed index.
    const idx = await fetch(`${local.url}/debproxy/dists/stable/main/binary-amd64/Packages.gz`);
    assert.equal(idx.status, 200);
    await idx.arrayBuffer();
    const p = 'pool/main/w/wharf-extra/wharf-extra_2.0-1_amd64.deb';
    const bodies = await Promise.all(Array.from({ length: 20 }, async () => {
      const res = await fetch(`${local.url}/debproxy/${p}`);
      assert.equal(res.status, 200);
      return Buffer.from(await res.arrayBuffer());
    }));
    for (const b of bodies) assert.deepEqual(b, bytes);
    assert.equal(upstream.requests.filter((r) => r.url === `/deb/${p}`).length, 1);
    assert.equal((await local.wharf.store.getFileByPath(proxyId(), p))?.meta.verified, 'sha256');
  });

  it('keeps serving cached indexes (marked stale) and .debs when the upstream is down', async () => {
    await upstream.close();
    const res = await fetch(`${local.url}/debproxy/dists/stable/InRelease`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-wharf-stale'), 'true');
    assert.match(await res.text(), /^-----BEGIN PGP SIGNED MESSAGE-----/);
    // A new client: update from the stale InRelease and the cached by-hash index, then the .debs.
    const env = await aptEnv(path.join(dir, 'b'), { url: `${local.url}/debproxy`, suite: 'stable', component: 'main', keyFile });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    assertClean(await env.apt('apt-get', 'install', '-y', '--download-only', 'wharf-hello'));
    const debs = (await readdir(path.join(env.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')).sort();
    assert.deepEqual(debs, ['libwharf1_1.0-1_all.deb', 'wharf-hello_1%3a1.0-1_amd64.deb']);
    // Nothing cached and the upstream gone: a clear failure, not a hang.
    const miss = await fetch(`${local.url}/debproxy/pool/main/n/nothere/nothere_1_amd64.deb`);
    assert.equal(miss.status, 502);
  });

  describe('against a misbehaving upstream', () => {
    let bad: Server;
    let badUrl: string;
    let good: Buffer;
    let evil: Buffer;
    let serveGood = false;
    const hits: string[] = [];
    const P = 'pool/main/c/corrupt/corrupt_1.0_amd64.deb';

    before(async () => {
      good = await readFile(await buildDeb(dir, 'corrupt', control('corrupt', '1.0')));
      // A valid .deb with other bytes: passes the ar-magic check, fails the hash check.
      evil = await readFile(await buildDeb(dir, 'corrupt-evil', control('corrupt', '1.0', 'Section: evil\n')));
      const packages = `Package: corrupt\nVersion: 1.0\nArchitecture: amd64\nFilename: ${P}\nSize: ${good.length}\nSHA256: ${sha256(good)}\nDescription: x\n`;
      bad = createServer((req, res) => {
        hits.push(req.url ?? '');
        if (req.url === '/dists/stable/main/binary-amd64/Packages') return res.end(packages);
        if (req.url === '/dists/stable/InRelease') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
        if (req.url === `/${P}`) return res.writeHead(200, { 'content-length': String((serveGood ? good : evil).length) }).end(serveGood ? good : evil);
        if (req.url === '/pool/main/h/html/html_1.0_amd64.deb') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>');
        res.writeHead(404).end();
      });
      await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
      badUrl = `http://127.0.0.1:${(bad.address() as { port: number }).port}/`;
      await createRepo(local, { name: 'badproxy', format: 'apt', kind: 'proxy', options: { upstream: badUrl, metadataTtl: 600, negativeTtl: 0, timeout: 5 } });
    });
    after(() => new Promise<void>((r) => bad.close(() => r())));
    const badId = () => local.wharf.repo('badproxy')!.id;

    it('never stores or completes a .deb whose bytes disagree with the Packages index; stores the right one', async () => {
      const idx = await fetch(`${local.url}/badproxy/dists/stable/main/binary-amd64/Packages`);
      assert.equal(idx.status, 200);
      assert.match(await idx.text(), /Filename: pool\/main\/c\/corrupt/);
      // Small files fail before the first byte (502); large ones are cut off before their end.
      const res = await fetch(`${local.url}/badproxy/${P}`);
      if (res.status === 200) await assert.rejects(res.arrayBuffer(), 'the download must not complete');
      else {
        assert.equal(res.status, 502);
        assert.match(await res.text(), /sha256 .* its index says/);
      }
      assert.equal(await local.wharf.store.getFileByPath(badId(), P), undefined);
      // Not stored, so not served from the cache either: asked again, the upstream is asked again.
      serveGood = true;
      const ok = await fetch(`${local.url}/badproxy/${P}`);
      assert.equal(ok.status, 200);
      assert.deepEqual(Buffer.from(await ok.arrayBuffer()), good);
      await local.wharf.contentCache.settled(); // storing follows the verified download
      assert.equal((await local.wharf.store.getFileByPath(badId(), P))?.sha256, sha256(good));
      assert.equal(hits.filter((h) => h === `/${P}`).length, 2);
    });

    it('never caches an HTML page as an index or a .deb', async () => {
      const rel = await fetch(`${local.url}/badproxy/dists/stable/InRelease`);
      assert.equal(rel.status, 502);
      const deb = await fetch(`${local.url}/badproxy/pool/main/h/html/html_1.0_amd64.deb`);
      if (deb.status === 200) await assert.rejects(deb.arrayBuffer());
      else assert.equal(deb.status, 502);
      assert.equal(await local.wharf.store.getFileByPath(badId(), 'pool/main/h/html/html_1.0_amd64.deb'), undefined);

    });

    it('offline: serves what is cached, 404 for the rest, without asking the upstream', async () => {
      const patch = await api(local, '/repositories/badproxy', { method: 'PATCH', body: JSON.stringify({ options: { offline: true } }) });
      assert.equal(patch.status, 200, await patch.text());
      const n = hits.length;
      const cached = await fetch(`${local.url}/badproxy/${P}`);
      assert.equal(cached.status, 200);
      assert.deepEqual(Buffer.from(await cached.arrayBuffer()), good);
      const idx = await fetch(`${local.url}/badproxy/dists/stable/main/binary-amd64/Packages`);
      assert.equal(idx.status, 200);
      await idx.arrayBuffer();
      const miss = await fetch(`${local.url}/badproxy/pool/main/o/other/other_1.0_amd64.deb`);
      assert.equal(miss.status, 404);
      assert.match(await miss.text(), /offline/);
      assert.equal(hits.length, n);
    });
  });
});
