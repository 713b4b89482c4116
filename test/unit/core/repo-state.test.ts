// The core's per-repository state registry and the change feed behind it: holders learn every
// change of their repository (from this connection or another one on the same database) before
// they are used, are dropped when their repository is deleted or recreated, and memos stay
// within their bounds.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChangeFeed, type RepoChange } from '../../../src/core/change-feed.ts';
import { RepoStateRegistry } from '../../../src/core/repo-state.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

class Recorder {
  seen: RepoChange[] = [];
  applyChanges(changes: RepoChange[]) {
    this.seen.push(...changes);
  }
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function twoConnections() {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-repo-state-'));
  dirs.push(dir);
  const here = new Store(await openDatabase(join(dir, 'wharf.db')));
  const there = new Store(await openDatabase(join(dir, 'wharf.db')));
  const feed = await ChangeFeed.open(here);
  return { here, there, feed, registry: new RepoStateRegistry(feed) };
}

async function addFile(store: Store, repoId: number, path: string) {
  await store.insertBlob('a'.repeat(64), 1);
  return store.insertFile({ repoId, versionId: null, path, filename: path, sha256: 'a'.repeat(64), size: 1, meta: {} });
}

describe('repository state', () => {
  it('gives a holder every change of its repository, whoever wrote it, before it is used', async () => {
    const { here, there, registry } = await twoConnections();
    const repo = await here.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    const other = await here.createRepo({ name: 'o', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    const h = await registry.get(repo, 'rec', () => new Recorder());
    await addFile(here, repo.id, 'a.txt');
    const f = await addFile(there, repo.id, 'b.txt');
    await addFile(there, other.id, 'c.txt');
    await there.updateFileMeta(f.id, { x: 1 });
    await there.deleteFile(f.id);
    assert.equal(await registry.get(repo, 'rec', () => new Recorder()), h);
    assert.deepEqual(h.seen.map((c) => `${c.kind}:${c.subject}`), ['file:a.txt', 'file:b.txt', 'file:b.txt', 'file:b.txt']);
    // Published documents too, only those whose bytes changed.
    const doc = { key: 'k1', contentType: 'text/plain', body: Buffer.from('x'), gzip: null, etag: '"1"' };
    await there.replaceScope(repo.id, 's', [doc, { ...doc, key: 'k2' }]);
    await there.replaceScope(repo.id, 's', [doc]);
    await registry.get(repo, 'rec', () => new Recorder());
    assert.deepEqual(h.seen.slice(4).map((c) => `${c.kind}:${c.subject}`), ['index:k1', 'index:k2', 'index:k2']);
  });

  it('drops a holder without applyChanges at any change, and all of them with the repository', async () => {
    const { here, there, registry } = await twoConnections();
    const repo = await here.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    let made = 0;
    const plain = () => registry.get(repo, 'plain', () => ({ n: ++made }));
    assert.equal((await plain()).n, 1);
    assert.equal((await plain()).n, 1);
    await addFile(there, repo.id, 'a.txt');
    assert.equal((await plain()).n, 2);
    await registry.get(repo, 'rec', () => new Recorder());
    // Deleted and created again by another process, perhaps under the same id.
    await there.deleteRepo(repo.id);
    const again = await there.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    const fresh = await registry.get(again, 'rec', () => new Recorder());
    assert.deepEqual(fresh.seen, []);
    assert.equal(registry.holds(again.id, 'plain'), false);
  });

  it('keeps memos within their bounds and drops a deleted repository\'s entries', async () => {
    const { here, registry } = await twoConnections();
    const repo = await here.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    await registry.get(repo, 'x', () => ({}));
    const memo = registry.forRepo(repo).memo<string>('m', { maxEntries: 10, maxBytes: 100 });
    for (let i = 0; i < 50; i++) memo.set(`k${i}`, `v${i}`, 7);
    const held = registry.stats().memos.m;
    assert.ok(held.entries <= 10 && held.bytes <= 100, JSON.stringify(held));
    assert.equal(memo.get('k49'), 'v49');
    // Memos survive file changes (their keys name their content)...
    await addFile(here, repo.id, 'a.txt');
    await registry.get(repo, 'x', () => ({}));
    assert.equal(memo.get('k49'), 'v49');
    // ...but not the repository.
    await here.deleteRepo(repo.id);
    await registry.get(repo, 'x', () => ({}));
    assert.equal(registry.stats().memos.m.entries, 0);
  });

  it('forgets everything when the changes it missed were pruned', async () => {
    const { here, there, feed, registry } = await twoConnections();
    const repo = await here.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    const h = await registry.get(repo, 'rec', () => new Recorder());
    await addFile(there, repo.id, 'a.txt');
    assert.ok((await feed.log.prune(-10, 0)) > 0);
    const after = await registry.get(repo, 'rec', () => new Recorder());
    assert.notEqual(after, h);
    assert.deepEqual(h.seen, []);
  });

  it('does not apply changes from inside a transaction, which a rollback could take back', async () => {
    const { here, registry } = await twoConnections();
    const repo = await here.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
    const h = await registry.get(repo, 'rec', () => new Recorder());
    await assert.rejects(here.transaction(async () => {
      await addFile(here, repo.id, 'gone.txt');
      await registry.get(repo, 'rec', () => new Recorder());
      throw new Error('roll back');
    }), /roll back/);

    await addFile(here, repo.id, 'kept.txt');
    await registry.get(repo, 'rec', () => new Recorder());
    assert.deepEqual(h.seen.map((c) => c.subject), ['kept.txt']);
  });
});
