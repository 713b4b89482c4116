// A key rotation commits the new key and marks every signed scope dirty in one transaction: a
// crash before the republish (simulated here by a publish that fails) leaves the scopes dirty,
// and the next start signs them with the new key instead of serving the old signatures.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, control } from '../helpers/apt.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { tinyPackage } from './arch-helpers.ts';

describe('key rotation and dirty scopes', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-keyrot-'));
    const api = (p: string, body: object) => fetch(`${server.url}/-/api/v1${p}`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await api('/repositories', { name: 'deb', format: 'apt' })).status, 201);
    assert.equal((await api('/repositories', { name: 'arch', format: 'arch' })).status, 201);
    const deb = await buildDeb(dir, 'hello', control('hello', '1.0'));
    const put = (url: string, file: string) => readFile(file).then((body) => fetch(url, { method: 'PUT', headers: { authorization: server.adminAuth }, body }));
    assert.equal((await put(`${server.url}/deb/upload/stable/main/${path.basename(deb)}`, deb)).status, 201);
    const pkg = await tinyPackage(dir, { name: 'hello', version: '1.0-1' });
    assert.equal((await put(`${server.url}/arch/upload/${path.basename(pkg)}`, pkg)).status, 201);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [repo, doc] of [['deb', 'dists/stable/InRelease'], ['arch', 'x86_64/arch.db.sig']] as const) {
    it(`${repo}: a rotation whose republish never happens leaves the signed scopes dirty, and recovery re-signs them`, async () => {
      const { wharf } = server;
      const r = wharf.requireRepo(repo);
      const old = await (await fetch(`${server.url}/${repo}/${doc}`)).arrayBuffer();
      assert.deepEqual((await wharf.store.listDirty()).filter((d) => d.repoId === r.id), []);
      // The process "dies" between committing the key and republishing.
      const publish = wharf.publish;
      wharf.publish = async () => {
        throw new Error('simulated crash before the republish');
      };
      try {
        const res = await fetch(`${server.url}/-/api/v1/repositories/${repo}/keys/rotate`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ graceDays: 0 }) });
        assert.equal(res.status, 500);
      } finally {
        wharf.publish = publish;
      }
      const dirty = (await wharf.store.listDirty()).filter((d) => d.repoId === r.id).map((d) => d.scope);
      assert.ok(dirty.length > 0, 'the signed scopes are marked dirty with the key change');
      await wharf.recover();
      assert.deepEqual((await wharf.store.listDirty()).filter((d) => d.repoId === r.id), []);
      const now = Buffer.from(await (await fetch(`${server.url}/${repo}/${doc}`)).arrayBuffer());
      assert.notDeepEqual(now, Buffer.from(old), 'the index is signed again (by the new key only)');
    });
  }
});
