// The file history behind time travel (db/history-store.ts, the file_history triggers): what a
// hosted repository held at an instant through uploads, overwrites, metadata changes and
// deletes (a version's and a package's cascades included), nothing for proxies, pruning that
// spares what a snapshot lists, and gc's references — on both engines.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/db/database.ts';
import { HistoryStore } from '../../../src/db/history-store.ts';
import { migrations } from '../../../src/db/migrations.ts';
import type { Sql } from '../../../src/db/sql.ts';
import { Store } from '../../../src/db/store.ts';
import { engines, type Engine } from '../../helpers/engines.ts';

const sha = (c: string) => c.repeat(64);
const pause = (ms = 15) => new Promise((r) => setTimeout(r, ms));
/** An instant strictly after what came before and before what comes after. */
async function mark(): Promise<string> {
  await pause();
  const at = new Date().toISOString();
  await pause();
  return at;
}

const opened: Sql[] = [];
after(async () => {
  for (const s of opened) await s.close();
});

async function setup(engine: Engine) {
  const db = await engine.fresh();
  opened.push(db);
  const store = new Store(db);
  const history = new HistoryStore(db);
  const repo = await store.createRepo({ name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: {} });
  for (const c of 'abcdef') await store.insertBlob(sha(c), 1);
  const add = async (pkg: string, version: string, path: string, blob: string, meta: Record<string, unknown> = {}) => {
    const p = await store.upsertPackage(repo.id, pkg, pkg.toUpperCase());
    const v = await store.upsertVersion(p, version, {});
    return store.insertFile({ repoId: repo.id, versionId: v, path, filename: path.split('/').pop()!, sha256: sha(blob), size: 1, meta, uploadedBy: 'alice' });
  };
  const at = async (instant: string) => (await history.filesAsOf(repo.id, instant)).map((f) => `${f.path}=${f.sha256[0]}${f.meta.yanked ? ' yanked' : ''} ${f.package}/${f.version}`);
  return { db, store, history, repo, add, at };
}

for (const engine of engines()) describe(`file history on ${engine.name}`, () => {
  it('answers each instant through adds, an overwrite, a metadata change and deletes with cascades', async () => {
    const { store, history, repo, add, at } = await setup(engine);
    const t0 = await mark();
    const one = await add('demo', '1.0', 'p/demo-1.0.whl', 'a');
    await add('other', '0.1', 'p/other-0.1.whl', 'b');
    const t1 = await mark();
    await store.replaceFileContent(one.id, { sha256: sha('c'), size: 1, meta: {} });
    const t2 = await mark();
    await store.updateFileMeta(one.id, { yanked: true });
    await add('demo', '2.0', 'p/demo-2.0.whl', 'd');
    const t3 = await mark();
    // A version's delete cascades to its file; a package's to its versions and files.
    await store.deleteVersion((await store.getVersion((await store.getPackage(repo.id, 'demo'))!.id, '1.0'))!.id);
    await store.deletePackage((await store.getPackage(repo.id, 'other'))!.id);
    const t4 = await mark();

    assert.deepEqual(await at(t0), []);
    assert.deepEqual(await at(t1), ['p/demo-1.0.whl=a demo/1.0', 'p/other-0.1.whl=b other/0.1']);
    assert.deepEqual(await at(t2), ['p/demo-1.0.whl=c demo/1.0', 'p/other-0.1.whl=b other/0.1']);
    assert.deepEqual(await at(t3), ['p/demo-1.0.whl=c yanked demo/1.0', 'p/demo-2.0.whl=d demo/2.0', 'p/other-0.1.whl=b other/0.1']);
    assert.deepEqual(await at(t4), ['p/demo-2.0.whl=d demo/2.0']);
    // A closed row carries the file as it was; an open one reads the live row.
    const past = (await history.filesAsOf(repo.id, t1)).find((f) => f.path === 'p/demo-1.0.whl')!;
    assert.equal(past.uploadedBy, 'alice');
    assert.equal(past.displayName, 'DEMO');
  });

  it('records nothing for a proxy repository', async () => {
    const { store, history } = await setup(engine);
    const proxy = await store.createRepo({ name: 'up', format: 'pypi', kind: 'proxy', publicRead: true, options: {} });
    const f = await store.insertFile({ repoId: proxy.id, versionId: null, path: 'x', filename: 'x', sha256: sha('e'), size: 1, meta: {} });
    await store.deleteFile(f.id);
    assert.equal(Number((await store.sql.get('SELECT COUNT(*) AS n FROM file_history WHERE repo_id = ?', [proxy.id]))!.n), 0);
    assert.deepEqual(await history.filesAsOf(proxy.id, new Date().toISOString()), []);
  });

  it('keeps a deleted file\'s blob referenced until its history is pruned, and spares what a snapshot lists', async () => {
    const { store, history, repo, add, at } = await setup(engine);
    const gone = await add('demo', '1.0', 'p/a', 'e');
    const kept = await add('demo', '1.1', 'p/b', 'f');
    const snap = await mark();
    await store.deleteFile(gone.id);
    await store.deleteFile(kept.id);
    assert.deepEqual([...await store.referencedBlobs([sha('e'), sha('f')])].sort(), [sha('e'), sha('f')]);
    assert.ok(await store.isBlobReferenced(sha('e')));
    assert.deepEqual((await store.unreferencedBlobs('', 10)).map((b) => b.sha256[0]).sort(), ['a', 'b', 'c', 'd']);

    // A snapshot at an instant that lists both keeps both through any pruning.
    assert.ok(await history.createSnapshot(repo.id, { name: 's', at: snap, createdBy: null }));
    assert.equal(await history.createSnapshot(repo.id, { name: 's', at: snap, createdBy: null }), false);
    await pause();
    assert.equal(await history.prune(repo.id, new Date().toISOString()), 0);
    assert.deepEqual(await at(snap), ['p/a=e demo/1.0', 'p/b=f demo/1.1']);
    assert.ok(await history.deleteSnapshot(repo.id, 's'));
    // A group's snapshot keeps what it lists in its members (the caller names the groups).
    const group = await store.createRepo({ name: 'g', format: 'pypi', kind: 'group', publicRead: true, options: { members: ['py'] } });
    assert.ok(await history.createSnapshot(group.id, { name: 'gs', at: snap, createdBy: null }));
    assert.equal(await history.prune(repo.id, new Date().toISOString(), [group.id]), 0);
    assert.ok(await history.deleteSnapshot(group.id, 'gs'));
    assert.equal(await history.prune(repo.id, new Date().toISOString(), [group.id]), 2);
    assert.deepEqual(await at(snap), []);
    assert.deepEqual(await store.referencedBlobs([sha('e'), sha('f')]), new Set());
    assert.equal(await store.isBlobReferenced(sha('e')), false);
  });

  it('a repository\'s delete takes its history and snapshots with it', async () => {
    const { store, history, repo, add } = await setup(engine);
    await add('demo', '1.0', 'p/a', 'a');
    await history.createSnapshot(repo.id, { name: 's', at: new Date().toISOString(), createdBy: 'alice' });
    await store.deleteRepo(repo.id);
    assert.equal(Number((await store.sql.get('SELECT COUNT(*) AS n FROM file_history'))!.n), 0);
    assert.equal(Number((await store.sql.get('SELECT COUNT(*) AS n FROM snapshots'))!.n), 0);
  });
});

describe('file history after an upgrade', () => {
  it('starts with the files a hosted repository held before the history existed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-history-'));
    try {
      const file = join(dir, 'wharf.db');
      const raw = new DatabaseSync(file);
      const index = migrations.findIndex((m) => m.includes('CREATE TABLE file_history'));
      for (const m of migrations.slice(0, index)) raw.exec(m);
      raw.exec(`PRAGMA user_version = ${index}`);
      raw.exec(`INSERT INTO repositories (id, name, format, kind, created_at) VALUES (1, 'py', 'pypi', 'hosted', '2026-01-01T00:00:00.000Z'), (2, 'up', 'pypi', 'proxy', '2026-01-01T00:00:00.000Z');
        INSERT INTO blobs (sha256, size, created_at) VALUES ('${sha('a')}', 1, '2026-01-02T00:00:00.000Z');
        INSERT INTO packages (id, repo_id, name, display_name, created_at, updated_at) VALUES (1, 1, 'demo', 'Demo', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z');
        INSERT INTO versions (id, package_id, version, created_at) VALUES (1, 1, '1.0', '2026-01-02T00:00:00.000Z');
        INSERT INTO files (repo_id, version_id, path, filename, sha256, size, created_at) VALUES
          (1, 1, 'p/demo-1.0.whl', 'demo-1.0.whl', '${sha('a')}', 1, '2026-01-02T00:00:00.000Z'),
          (2, NULL, 'cached', 'cached', '${sha('a')}', 1, '2026-01-02T00:00:00.000Z');`);
      raw.close();
      const db = await openDatabase(file);
      opened.push(db);
      const history = new HistoryStore(db);
      assert.deepEqual((await history.filesAsOf(1, '2026-01-03T00:00:00.000Z')).map((f) => [f.path, f.package, f.displayName, f.version]), [['p/demo-1.0.whl', 'demo', 'Demo', '1.0']]);
      assert.deepEqual(await history.filesAsOf(1, '2026-01-01T12:00:00.000Z'), []);
      assert.deepEqual(await history.filesAsOf(2, '2026-01-03T00:00:00.000Z'), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
