// Cooldown (minAge) on files proxies and groups, with curl. A file's age is its upstream's
// Last-Modified, else the time the proxy first fetched it.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/clients.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const tarball = gzipSync(Buffer.alloc(2048, 7));
const OLD = 'Wed, 01 Jan 2020 00:00:00 GMT';

describe('files cooldown (minAge) with curl', () => {
  let upstream: Server;
  let wharf: TestServer;
  let work = '';
  const fresh = new Date().toUTCString();

  const curl = async (url: string) => {
    const r = await run('curl', ['-sS', '-o', join(work, 'out'), '-w', '%{http_code}', url]);
    return Number(r.stdout);
  };
  const body = async (url: string) => (await run('curl', ['-sS', url])).stdout;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-fcool-'));
    upstream = createServer((req, res) => {
      const lm = req.url?.includes('/old-') ? { 'last-modified': OLD } : req.url?.includes('/new-') ? { 'last-modified': fresh } : {};
      if (req.url?.endsWith('.tar.gz')) res.writeHead(200, { 'content-type': 'application/gzip', ...lm }).end(tarball);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const up = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/`;
    wharf = await startServer();
    const mk = async (body: object) => {
      const res = await fetch(`${wharf.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: wharf.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 201, await res.text());
    };
    await mk({ name: 'fplain', format: 'files', kind: 'proxy', options: { upstream: up } });
    await mk({ name: 'fcool', format: 'files', kind: 'proxy', options: { upstream: up, minAge: '7d', minAgeExempt: ['urgent/'] } });
    await mk({ name: 'fh', format: 'files' });
    await mk({ name: 'fg', format: 'files', kind: 'group', options: { members: ['fh', 'fplain'], minAge: '1d' } });
    const put = await run('curl', ['-fsS', '-u', `admin:${ADMIN_PASSWORD}`, '-T', await (async () => { const f = join(work, 'new-inhouse.tar.gz'); await writeFile(f, tarball); return f; })(), `${wharf.url}/fh/v1/`]);
    assert.equal(put.code, 0, put.stderr);
  });
  after(async () => {
    await wharf.close();
    await new Promise((r) => upstream.close(r));
    await rm(work, { recursive: true, force: true });
  });

  it('a proxy with minAge serves a file its upstream last modified long ago and refuses a fresh one with a 404 that says why', async () => {
    assert.equal(await curl(`${wharf.url}/fcool/v1/old-1.0.tar.gz`), 200);
    assert.equal(await curl(`${wharf.url}/fcool/v1/new-2.0.tar.gz`), 404);
    assert.match(await body(`${wharf.url}/fcool/v1/new-2.0.tar.gz`), /younger than fcool's minAge \(7d\)/, 'refused again once cached');
    // No Last-Modified: as old as the first fetch.
    assert.equal(await curl(`${wharf.url}/fcool/v1/plain-1.0.tar.gz`), 404);
    assert.equal(await curl(`${wharf.url}/fcool/urgent/new-2.0.tar.gz`), 200, 'exempt by its directory');
    assert.equal(await curl(`${wharf.url}/fplain/v1/new-2.0.tar.gz`), 200, 'no cooldown: served');
  });

  it('a group applies its minAge to its proxy members, even to files they have cached, and not to its hosted member', async () => {
    assert.equal(await curl(`${wharf.url}/fg/v1/old-1.0.tar.gz`), 200);
    assert.equal(await curl(`${wharf.url}/fg/v1/new-2.0.tar.gz`), 404);
    assert.match(await body(`${wharf.url}/fg/v1/new-2.0.tar.gz`), /younger than fg's minAge \(1d\)/);
    assert.equal(await curl(`${wharf.url}/fg/v1/new-inhouse.tar.gz`), 200);
  });
});
