// Arch proxy repositories with a real pacman: a local Wharf mirrors a hosted Arch repository
// of another Wharf. pacman checks dbs and packages against the UPSTREAM's key through the
// proxy; packages are cached; when the upstream is gone the stale db and the cached packages
// keep working. Corrupted upstream packages are never stored; concurrent misses cost one fetch.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { buildRepoDb } from '../../src/formats/arch/db-archive.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { fileFacts, removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

describe('Arch proxy repositories', { skip: process.getuid?.() !== 0 ? 'pacman needs root' : false }, () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  let gpgdir: string;
  let up: WharfClient;
  let proxyServer: string;

  const upstreamGets = (url: string) => upstream.requests.filter((r) => r.method === 'GET' && r.url === url).length;

  before(async () => {
    dir = await tempDir('wharf-arch-proxy-');
    gpgdir = await keyring(dir);
    upstream = await startServer();
    up = new WharfClient({ url: upstream.url, user: 'admin', password: ADMIN_PASSWORD });
    await up.createRepo({ name: 'arch', format: 'arch' });
    await up.upload('arch', await tinyPackage(dir, { name: 'libgreet', version: '1.0-1', files: { 'usr/lib/libgreet.so': 'lib\n' } }));
    await up.upload('arch', await tinyPackage(dir, { name: 'greet', version: '1.0-1', arch: 'any', depends: ['libgreet>=1.0'] }));
    // pacman trusts the upstream's key: the proxy passes dbs, packages and signatures through.
    const keyFile = path.join(dir, 'upstream.asc');
    await writeFile(keyFile, await (await fetch(`${upstream.url}/arch/key.asc`)).text());
    const { keys } = await (await fetch(`${upstream.url}/-/api/v1/repositories/arch/keys`, { headers: { authorization: upstream.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, keyFile, keys[0].fingerprint);

    local = await startServer();
    const lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    await lc.createRepo({ name: 'ap', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/arch/`, metadataTtl: 0, negativeTtl: 60, timeout: 5 } });
    proxyServer = `${local.url}/ap/$arch`;
  });
  after(async () => {
    await local?.close();
    await upstream?.close().catch(() => {});
    if (dir) await removeDir(dir);
  });

  it('refuses Arch options it does not have, uploads (405) and key.asc (404)', async () => {
    const bad = await fetch(`${local.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: local.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ap2', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/arch/`, signPackages: true } }),
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /signPackages/);
    const put = await fetch(`${local.url}/ap/upload/x-1-1-any.pkg.tar.zst`, { method: 'PUT', body: 'x', headers: { authorization: local.adminAuth } });
    assert.equal(put.status, 405);
    const post = await fetch(`${local.url}/ap/upload/`, { method: 'POST', body: new FormData(), headers: { authorization: local.adminAuth } });
    assert.equal(post.status, 405);
    const key = await fetch(`${local.url}/ap/key.asc`);
    assert.equal(key.status, 404);
    assert.match(await key.text(), /upstream/);
  });

  it('pacman -Sy installs a package with its dependency through the proxy; the packages are cached', async () => {
    const p = await pacman(path.join(dir, 'p1'), gpgdir, 'myrepo', proxyServer);
    await p.ok('-Sy', 'greet');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/greet'), 'utf8'), '#!/bin/sh\necho greet 1.0-1\n');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/lib/libgreet.so'), 'utf8'), 'lib\n');
    const repo = local.wharf.requireRepo('ap');
    await local.wharf.contentCache.settled(); // storing follows each verified download
    for (const f of ['x86_64/greet-1.0-1-any.pkg.tar.zst', 'x86_64/greet-1.0-1-any.pkg.tar.zst.sig', 'x86_64/libgreet-1.0-1-x86_64.pkg.tar.zst']) {
      assert.ok(await local.wharf.store.getFileByPath(repo.id, f), `${f} is cached`);
    }
    const again = await fetch(`${local.url}/ap/x86_64/greet-1.0-1-any.pkg.tar.zst`);
    assert.equal(again.headers.get('x-wharf-cache'), 'hit');
    await again.arrayBuffer();
    assert.equal(upstreamGets('/arch/x86_64/greet-1.0-1-any.pkg.tar.zst'), 1);
  });

  it('sees a newer upstream upload at the next -Syu (db and .sig refreshed together, Last-Modified moves forward)', async () => {
    const p = await pacman(path.join(dir, 'p1'), gpgdir, 'myrepo', proxyServer);
    const before = (await fetch(`${local.url}/ap/x86_64/myrepo.db`)).headers.get('last-modified')!;
    await up.upload('arch', await tinyPackage(dir, { name: 'greet', version: '1.1-1', arch: 'any', depends: ['libgreet'] }));
    await p.ok('-Syu');
    assert.match(await p.ok('-Q', 'greet'), /^greet 1\.1-1$/m);
    const res = await fetch(`${local.url}/ap/x86_64/myrepo.db`);
    assert.ok(Date.parse(res.headers.get('last-modified')!) > Date.parse(before), 'Last-Modified moved forward');
    await res.arrayBuffer();
    // A conditional request with the current date is answered 304, as pacman's curl expects.
    const cond = await fetch(`${local.url}/ap/x86_64/myrepo.db`, { headers: { 'if-modified-since': res.headers.get('last-modified')! } });
    assert.equal(cond.status, 304);
  });

  it('20 concurrent requests for one uncached package cost one upstream fetch', async () => {
    const extra = await tinyPackage(dir, { name: 'extra', version: '1.0-1', files: { 'usr/share/extra': 'x'.repeat(200_000) } });
    await up.upload('arch', extra);
    await (await fetch(`${local.url}/ap/x86_64/myrepo.db`)).arrayBuffer();
    const url = `${local.url}/ap/x86_64/extra-1.0-1-x86_64.pkg.tar.zst`;
    const bodies = await Promise.all(Array.from({ length: 20 }, async () => {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      return Buffer.from(await res.arrayBuffer());
    }));
    const original = await readFile(extra);
    for (const b of bodies) assert.deepEqual(b, original);
    assert.equal(upstreamGets('/arch/x86_64/extra-1.0-1-x86_64.pkg.tar.zst'), 1);
  });

  it('logs in to a private upstream with the proxy\'s username and password', async () => {
    await up.createRepo({ name: 'secret', format: 'arch', public: false });
    await up.upload('secret', await tinyPackage(dir, { name: 'hidden', version: '1.0-1' }));
    const lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    await lc.createRepo({ name: 'sp', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/secret/`, username: 'admin', password: ADMIN_PASSWORD } });
    await lc.createRepo({ name: 'sp-anon', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/secret/` } });
    assert.equal((await fetch(`${local.url}/sp-anon/x86_64/secret.db`)).status, 502);
    assert.equal((await fetch(`${local.url}/sp/x86_64/secret.db`)).status, 200);
    const pkg = await fetch(`${local.url}/sp/x86_64/hidden-1.0-1-x86_64.pkg.tar.zst`);
    assert.equal(pkg.status, 200);
    await pkg.arrayBuffer();
  });

  it('keeps serving the stale db and the cached packages when the upstream is gone', async () => {
    await upstream.close();
    const db = await fetch(`${local.url}/ap/x86_64/myrepo.db`);
    assert.equal(db.status, 200);
    assert.equal(db.headers.get('x-wharf-stale'), 'true');
    await db.arrayBuffer();
    const sig = await fetch(`${local.url}/ap/x86_64/myrepo.db.sig`);
    assert.equal(sig.status, 200);
    assert.equal(sig.headers.get('x-wharf-stale'), 'true');
    await sig.arrayBuffer();

    const p = await pacman(path.join(dir, 'p2'), gpgdir, 'myrepo', proxyServer);
    await p.ok('-Sy', 'greet');
    assert.match(await p.ok('-Q', 'greet'), /^greet 1\.1-1$/m);
    assert.equal(await readFile(path.join(p.dir, 'root/usr/lib/libgreet.so'), 'utf8'), 'lib\n');
    // Not cached and no upstream: a clean failure, not a hang.
    assert.equal((await fetch(`${local.url}/ap/x86_64/nothere-1-1-x86_64.pkg.tar.zst`)).status, 502);
  });

  it('offline: only what is cached, without asking the upstream', async () => {
    const lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    await lc.createRepo({ name: 'off', format: 'arch', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/arch/', offline: true } });
    assert.equal((await fetch(`${local.url}/off/x86_64/myrepo.db`)).status, 404);
    assert.equal((await fetch(`${local.url}/off/x86_64/greet-1.1-1-any.pkg.tar.zst`)).status, 404);
  });
});

describe('Arch proxy against a misbehaving upstream', () => {
  let local: TestServer;
  let bad: Server;
  let dir: string;
  let good: Buffer;
  let corrupt = true;
  const hits: string[] = [];
  const filename = 'foo-1.0-1-x86_64.pkg.tar.zst';

  before(async () => {
    dir = await tempDir('wharf-arch-proxy-bad-');
    const pkg = await tinyPackage(dir, { name: 'foo', version: '1.0-1', files: { 'usr/share/foo': 'y'.repeat(100_000) } });
    good = await readFile(pkg);
    const facts = await fileFacts(pkg);
    const desc = `%FILENAME%\n${filename}\n\n%NAME%\nfoo\n\n%VERSION%\n1.0-1\n\n%CSIZE%\n${facts.csize}\n\n%SHA256SUM%\n${facts.sha256}\n\n%ARCH%\nx86_64\n\n`;
    const db = await buildRepoDb([{ name: 'foo-1.0-1', desc }], { withFiles: false });
    bad = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/x86_64/bad.db') return res.end(db);
      if (req.url === '/x86_64/html.db') {
        res.setHeader('content-type', 'text/html');
        return res.end('<html>maintenance</html>');
      }
      if (req.url === `/x86_64/${filename}`) {
        // Same length, same magic, one byte off near the end.
        const body = Buffer.from(good);
        if (corrupt) body[body.length - 10] ^= 0xff;
        return res.end(body);
      }
      res.statusCode = 404;
      res.end('not found');
    });
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    local = await startServer();
    const lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    await lc.createRepo({ name: 'bp', format: 'arch', kind: 'proxy', options: { upstream: `http://127.0.0.1:${(bad.address() as { port: number }).port}/`, metadataTtl: 0 } });
  });
  after(async () => {
    await local?.close();
    await new Promise((resolve) => bad?.close(resolve));
    if (dir) await removeDir(dir);
  });

  it('never stores an HTML page as a db', async () => {
    assert.equal((await fetch(`${local.url}/bp/x86_64/html.db`)).status, 502);
    assert.equal((await fetch(`${local.url}/bp/x86_64/html.db`)).status, 502);
  });

  it('a package whose bytes do not match the db SHA256 is not stored and the download fails; good bytes are then cached', async () => {
    assert.equal((await fetch(`${local.url}/bp/x86_64/bad.db`)).status, 200);
    const url = `${local.url}/bp/x86_64/${filename}`;
    // The client sees a failure: an error status, or (once bytes were streamed) a cut download.
    const failed = await fetch(url).then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    }, (err: Error) => err.message);
    assert.notEqual(failed, 200, 'the corrupted download did not complete');
    const repo = local.wharf.requireRepo('bp');
    assert.equal(await local.wharf.store.getFileByPath(repo.id, `x86_64/${filename}`), undefined);


    corrupt = false;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), good);
    const hit = await fetch(url);
    assert.equal(hit.headers.get('x-wharf-cache'), 'hit');
    assert.deepEqual(Buffer.from(await hit.arrayBuffer()), good);
    assert.equal(hits.filter((h) => h === `/x86_64/${filename}`).length, 2);
  });
});
