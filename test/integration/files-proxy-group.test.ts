// Files proxy and group repositories with curl: a tarball base URL mirrored on demand,
// kept when the upstream goes away, error pages never stored; a group over hosted + proxy.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/clients.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

async function createRepo(server: TestServer, body: object) {
  const res = await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.text());
}

describe('files proxy and group repositories', () => {
  let upstream: TestServer;
  let local: TestServer;
  let work: string;
  const tarball = gzipSync(Buffer.from('pretend this is a tar archive\n'.repeat(100)));

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-files-proxy-'));
    upstream = await startServer();
    await createRepo(upstream, { name: 'tars', format: 'files' });
    const put = await fetch(`${upstream.url}/tars/v1/tool-1.0.tar.gz`, { method: 'PUT', body: tarball, headers: { authorization: upstream.adminAuth } });
    assert.equal(put.status, 201);
    local = await startServer();
    await createRepo(local, { name: 'lf', format: 'files' });
    await createRepo(local, { name: 'ftp', format: 'files', kind: 'proxy', options: { upstream: `${upstream.url}/tars/`, metadataTtl: 0, negativeTtl: 60, timeout: 5 } });
    await createRepo(local, { name: 'fgrp', format: 'files', kind: 'group', options: { members: ['lf', 'ftp'], uploadTo: 'lf' } });
  });
  after(async () => {
    await local.close();
    await upstream.close().catch(() => {});
  });

  const upstreamGets = (path: string) => upstream.requests.filter((r) => r.method === 'GET' && r.url === path).length;

  it('curl fetches through the proxy once, then from the cache', async () => {
    const out = join(work, 'a.tgz');
    const r = await run('curl', ['-fsS', '-o', out, `${local.url}/ftp/v1/tool-1.0.tar.gz`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(out), tarball);
    const again = await run('curl', ['-fsS', '-D', '-', '-o', join(work, 'b.tgz'), `${local.url}/ftp/v1/tool-1.0.tar.gz`]);
    assert.match(again.stdout, /x-wharf-cache: hit/i);
    assert.equal(upstreamGets('/tars/v1/tool-1.0.tar.gz'), 1);
    const listing = await run('curl', ['-fsS', `${local.url}/ftp/v1/`]);
    assert.match(listing.stdout, /tool-1\.0\.tar\.gz/);
  });

  it('remembers a miss for negativeTtl', async () => {
    assert.equal((await fetch(`${local.url}/ftp/v1/missing.tar.gz`)).status, 404);
    assert.equal((await fetch(`${local.url}/ftp/v1/missing.tar.gz`)).status, 404);
    assert.equal(upstreamGets('/tars/v1/missing.tar.gz'), 1);
  });

  it('a group serves hosted files first, then the proxy, and takes uploads into its hosted member', async () => {
    const file = join(work, 'local.tar.gz');
    await writeFile(file, gzipSync(Buffer.from('local build')));
    const up = await run('curl', ['-fsS', '-u', `admin:${ADMIN_PASSWORD}`, '-T', file, `${local.url}/fgrp/v1/`]);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(await local.wharf.store.getFileByPath(local.wharf.requireRepo('lf').id, 'v1/local.tar.gz'));
    assert.deepEqual(Buffer.from(await (await fetch(`${local.url}/fgrp/v1/local.tar.gz`)).arrayBuffer()), await readFile(file));
    assert.deepEqual(Buffer.from(await (await fetch(`${local.url}/fgrp/v1/tool-1.0.tar.gz`)).arrayBuffer()), tarball);
    assert.equal((await fetch(`${local.url}/fgrp/v1/none.tar.gz`)).status, 404);
    assert.equal((await fetch(`${local.url}/ftp/v1/x.tar.gz`, { method: 'PUT', body: 'x', headers: { authorization: local.adminAuth } })).status, 405);
  });

  it('keeps serving cached files with the upstream stopped', async () => {
    await upstream.close();
    const r = await run('curl', ['-fsS', '-o', join(work, 'c.tgz'), `${local.url}/ftp/v1/tool-1.0.tar.gz`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(join(work, 'c.tgz')), tarball);
    const listing = await fetch(`${local.url}/ftp/v1/`);
    assert.equal(listing.status, 200);
    assert.equal(listing.headers.get('x-wharf-stale'), 'true');
    assert.equal((await fetch(`${local.url}/ftp/v1/other.tar.gz`)).status, 502);
  });
});

describe('a files proxy never stores an error page', () => {
  let origin: Server;
  let local: TestServer;
  let good = false;
  const body = gzipSync(Buffer.from('real'));

  before(async () => {
    origin = createServer((_req, res) => {
      if (good) {
        res.setHeader('content-type', 'application/gzip');
        res.end(body);
      } else {
        res.setHeader('content-type', 'text/html');
        res.end('<html>maintenance</html>');
      }
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
    local = await startServer();
    await createRepo(local, { name: 'fx', format: 'files', kind: 'proxy', options: { upstream: `http://127.0.0.1:${(origin.address() as { port: number }).port}/` } });
  });
  after(async () => {
    await local.close();
    origin.closeAllConnections();
    origin.close();
  });

  it('answers an error, stores nothing, and caches the next good answer', async () => {
    const bad = await fetch(`${local.url}/fx/pkg.tar.gz`).then((r) => r.arrayBuffer().then(() => r.status), () => 0);
    assert.notEqual(bad, 200);
    assert.equal((await local.wharf.store.repoStats(local.wharf.requireRepo('fx').id)).files, 0);
    good = true;
    const ok = await fetch(`${local.url}/fx/pkg.tar.gz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(Buffer.from(await ok.arrayBuffer()), body);
    await local.wharf.contentCache.settled(); // storing follows the verified download
    assert.equal((await local.wharf.store.repoStats(local.wharf.requireRepo('fx').id)).files, 1);

  });
});
