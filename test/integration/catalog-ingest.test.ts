// Every upload path records who uploaded each file and keeps the package's summary (its
// newest version's) in the catalog the pages and search read, for every format.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, control } from '../helpers/apt.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { tinyPackage } from './arch-helpers.ts';

describe('catalog from uploads', () => {
  let server: TestServer;
  let dir: string;
  const admin = () => ({ authorization: server.adminAuth });
  const create = (name: string, format: string) =>
    fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { ...admin(), 'content-type': 'application/json' }, body: JSON.stringify({ name, format }) });
  const pkg = async (repo: string, name: string) => (await server.wharf.store.getPackage(server.wharf.repo(repo)!.id, name))!;
  const search = async (q: string, repo: string) => (await server.wharf.catalog.search(q, { repoIds: [server.wharf.repo(repo)!.id], offset: 0, limit: 5 })).rows.map((r) => r.name);

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'wharf-catalog-'));
    for (const [n, f] of [['py', 'pypi'], ['deb', 'apt'], ['arch', 'arch'], ['files', 'files']]) assert.equal((await create(n, f)).status, 201);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('PyPI: twine-style uploads record the uploader; an older version does not replace the summary', async () => {
    const upload = async (version: string, summary: string) => {
      const form = new FormData();
      form.set(':action', 'file_upload');
      form.set('content', new Blob([buildWheel({ name: 'Cat_Demo', version, summary })]), wheelFilename({ name: 'Cat_Demo', version }));
      const res = await fetch(`${server.url}/py/`, { method: 'POST', headers: admin(), body: form });
      assert.equal(res.status, 200, await res.text());
    };
    await upload('2.0', 'Catalog demo, the newest');
    await upload('1.0', 'An old summary');
    const p = await pkg('py', 'cat-demo');
    assert.equal(p.summary, 'Catalog demo, the newest');
    const files = await server.wharf.store.listFilesOfPackage(p.id);
    assert.ok(files.length >= 2);
    for (const f of files) assert.equal(f.uploadedBy, 'admin', f.path);
    assert.deepEqual(await search('cat_demo', 'py'), ['cat-demo']);
    assert.deepEqual(await search('newest', 'py'), ['cat-demo']);
    assert.deepEqual(await search('old', 'py'), []);
    const totals = (await server.wharf.catalog.repoSummaries()).get(server.wharf.repo('py')!.id)!;
    assert.equal(totals.packages, 1);
    assert.equal(totals.bytes, files.reduce((n, f) => n + f.size, 0));
  });

  it('APT, Arch and files: the uploader and the summary from each format\'s own metadata', async () => {
    const deb = await buildDeb(dir, 'catdeb', control('catdeb', '1.0').replace('test package catdeb', 'a Debian synopsis line'));
    let res = await fetch(`${server.url}/deb/upload/stable/main/`, { method: 'PUT', headers: admin(), body: await readFile(deb) });
    assert.ok(res.ok, await res.text());
    assert.equal((await pkg('deb', 'catdeb')).summary, 'a Debian synopsis line');
    assert.deepEqual(await search('synopsis', 'deb'), ['catdeb']);

    const archPkg = await tinyPackage(dir, { name: 'catarch', version: '1.0-1', desc: 'An Arch description' });
    res = await fetch(`${server.url}/arch/upload/${archPkg.split('/').pop()}`, { method: 'PUT', headers: admin(), body: await readFile(archPkg) });
    assert.ok(res.ok, await res.text());
    assert.equal((await pkg('arch', 'catarch')).summary, 'An Arch description');

    res = await fetch(`${server.url}/files/a/b.txt`, { method: 'PUT', headers: admin(), body: 'hello' });
    assert.equal(res.status, 201);
    for (const repo of ['deb', 'arch', 'files']) {
      const r = server.wharf.repo(repo)!;
      const files = await server.wharf.store.listFilesAfterId(r.id, 0);

      assert.ok(files.length > 0, repo);
      for (const f of files) assert.equal(f.uploadedBy, 'admin', `${repo} ${f.path}`);
    }
  });
});
