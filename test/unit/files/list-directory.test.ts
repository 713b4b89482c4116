// Store.listDirectory: the direct entries of one directory, found by seeking, not scanning.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

describe('Store.listDirectory', () => {
  let dir: string;
  let store: Store;
  let repoId: number;
  let otherId: number;
  const sha = 'c'.repeat(64);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-files-store-'));
    store = new Store(await openDatabase(join(dir, 'wharf.db')));
    repoId = (await store.createRepo({ name: 'files', format: 'files', kind: 'hosted', publicRead: true, options: {} })).id;
    otherId = (await store.createRepo({ name: 'other', format: 'files', kind: 'hosted', publicRead: true, options: {} })).id;
    await store.insertBlob(sha, 1);
    const paths = [
      'top.tgz', 'a.tgz', 'a/x.tgz', 'a/deep/1', 'a/deep/2', 'a/deep/er/3', 'a-b/y', 'a.b/z', 'a0', 'b/c/d/e',
      'émoji/😀.tgz', 'a/😀', 'a/z/🎉/w',
    ];
    for (const p of paths) await store.insertFile({ repoId, versionId: null, path: p, filename: p.split('/').pop()!, sha256: sha, size: 1, meta: {} });
    await store.insertFile({ repoId: otherId, versionId: null, path: 'a/elsewhere', filename: 'elsewhere', sha256: sha, size: 1, meta: {} });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const names = (r: { files: { filename: string }[]; dirs: string[] }) => ({ files: r.files.map((f) => f.filename).sort(), dirs: [...r.dirs].sort() });

  it('lists the root: files at the top and each first-level directory once', async () => {
    assert.deepEqual(names(await store.listDirectory(repoId, '')), { files: ['a.tgz', 'a0', 'top.tgz'], dirs: ['a', 'a-b', 'a.b', 'b', 'émoji'] });
  });

  it('lists a subdirectory without its neighbours or deeper files, including names beyond the BMP', async () => {
    assert.deepEqual(names(await store.listDirectory(repoId, 'a/')), { files: ['x.tgz', '😀'], dirs: ['deep', 'z'] });
    assert.deepEqual(names(await store.listDirectory(repoId, 'a/deep/')), { files: ['1', '2'], dirs: ['er'] });
    assert.deepEqual(names(await store.listDirectory(repoId, 'émoji/')), { files: ['😀.tgz'], dirs: [] });
    assert.deepEqual(names(await store.listDirectory(repoId, 'b/')), { files: [], dirs: ['c'] });
    assert.deepEqual(names(await store.listDirectory(repoId, 'nope/')), { files: [], dirs: [] });
  });

  it('stops at the limit', async () => {
    const r = await store.listDirectory(repoId, 'a/', 1);
    assert.equal(r.files.length + r.dirs.length, 1);
  });

  it('stays inside its repository', async () => {
    assert.deepEqual(names(await store.listDirectory(otherId, 'a/')), { files: ['elsewhere'], dirs: [] });
  });
});
