// Bad APT uploads each answer a clear 4xx and leave nothing behind: no rows, no blobs, no
// temp files, no published suite.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, truncate, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';
import { buildDeb, control } from '../helpers/apt.ts';

describe('APT uploads refuse bad input and store nothing', () => {
  let server: TestServer;
  let dir: string;
  let good: string;

  const put = async (body: Buffer, url: string) => {
    const res = await fetch(`${server.url}/deb/${url}`, { method: 'PUT', body, headers: { authorization: server.adminAuth } });
    return { status: res.status, text: await res.text() };
  };

  const assertNothingStored = async () => {
    const repo = server.wharf.requireRepo('deb');
    const stats = await server.wharf.store.repoStats(repo.id);
    assert.equal(stats.files, 0, 'no file rows');
    assert.equal(stats.packages, 0, 'no package rows');
    const blobs = (await server.wharf.store.sql.get('SELECT COUNT(*) AS n FROM blobs')) as { n: number | bigint };
    assert.equal(Number(blobs.n), 0, 'no blob rows');
    assert.deepEqual((await readdir(path.join(server.data, 'blobs'))).filter((d) => d !== 'tmp'), [], 'no blob files');
    assert.deepEqual(await readdir(path.join(server.data, 'blobs', 'tmp')), [], 'no staged temp files left');
    assert.deepEqual(await server.wharf.store.listIndexScopes(repo.id, ''), [], 'nothing published');
  };

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-bad-'));
    const r = await fetch(`${server.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'deb', format: 'apt' }),
    });
    assert.equal(r.status, 201);
    good = await buildDeb(dir, 'good', control('good', '1.0-1'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('garbage bytes', async () => {
    const r = await put(Buffer.from('this is not an ar archive at all, just text\n'.repeat(20)), 'upload/stable/main/good_1.0-1_amd64.deb');
    assert.equal(r.status, 400, r.text);
    await assertNothingStored();
  });

  it('a truncated .deb', async () => {
    const bytes = await readFile(good);
    for (const cut of [8, 100, Math.floor(bytes.length / 2), bytes.length - 10]) {
      const r = await put(bytes.subarray(0, cut), 'upload/stable/main/');
      assert.ok(r.status >= 400 && r.status < 500, `cut at ${cut}: ${r.status} ${r.text}`);
    }
    await assertNothingStored();
  });

  it('a control file without Package or Version', async () => {
    const noPackage = await buildDeb(dir, 'nopkg', 'Version: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.com>\nDescription: x\n', { nocheck: true });
    const r1 = await put(await readFile(noPackage), 'upload/stable/main/');
    assert.equal(r1.status, 400);
    assert.match(r1.text, /no Package field/);
    const noVersion = await buildDeb(dir, 'nover', 'Package: nover\nArchitecture: amd64\nMaintainer: T <t@example.com>\nDescription: x\n', { nocheck: true });
    const r2 = await put(await readFile(noVersion), 'upload/stable/main/');
    assert.equal(r2.status, 400);
    assert.match(r2.text, /no Version field/);
    await assertNothingStored();
  });

  it('a file name that lies about the package, version or architecture', async () => {
    const bytes = await readFile(good);
    for (const name of ['other_1.0-1_amd64.deb', 'good_2.0-1_amd64.deb', 'good_1.0-1_arm64.deb']) {
      const r = await put(bytes, `upload/stable/main/${name}`);
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.match(r.text, /file name says/);
    }
    // Multipart too.
    const form = new FormData();
    form.set('file', new Blob([bytes]), 'evil_6.6_amd64.deb');
    const res = await fetch(`${server.url}/deb/upload/stable/main/`, { method: 'POST', body: form, headers: { authorization: server.adminAuth } });
    assert.equal(res.status, 400);
    await assertNothingStored();
  });

  it('a suite or component with `..` or other path tricks', async () => {
    const bytes = await readFile(good);
    for (const url of ['upload/%2e%2e/main/', 'upload/stable/%2e%2e/', 'upload/..%2Fetc/main/', 'upload/stable/main%2F..%2F..%2Fx/', 'upload/.hidden/main/']) {
      const r = await put(bytes, url);
      assert.ok(r.status >= 400 && r.status < 500, `${url}: ${r.status} ${r.text}`);
    }
    const api = await fetch(`${server.url}/-/api/v1/repositories/deb/upload?filename=good.deb&suite=..&component=main`, {
      method: 'POST', body: bytes, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(api.status, 400);
    await assertNothingStored();
  });

  it('anonymous uploads are refused', async () => {
    const res = await fetch(`${server.url}/deb/upload/stable/main/`, { method: 'PUT', body: await readFile(good) });
    assert.equal(res.status, 401);
    await assertNothingStored();
  });

  it('the same path with different bytes is a conflict; a valid upload then works', async () => {
    const r = await put(await readFile(good), 'upload/stable/main/');
    assert.equal(r.status, 201, r.text);
    const other = path.join(dir, 'other.deb');
    await copyFile(await buildDeb(dir, 'good-rebuilt', control('good', '1.0-1', 'Section: misc\n')), other);
    const c = await put(await readFile(other), 'upload/stable/main/');
    assert.equal(c.status, 409, c.text);
    const stats = await server.wharf.store.repoStats(server.wharf.requireRepo('deb').id);

    assert.equal(stats.files, 1);
    await truncate(other, 0);
  });
});
