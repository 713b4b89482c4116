// Instants and snapshot names as `@<ref>` URLs and `wharf snapshot --at` spell them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AsOfStore, isValidSnapshotName, normalizeHistoryDays, parseInstant, TimeTravel } from '../../../src/core/time-travel.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

describe('time travel references', () => {
  it('reads instants in UTC, with an offset, or a bare date; refuses the rest', () => {
    assert.equal(parseInstant('2026-06-01T00:00:00Z'), '2026-06-01T00:00:00.000Z');
    assert.equal(parseInstant('2026-06-01'), '2026-06-01T00:00:00.000Z');
    assert.equal(parseInstant('2026-06-01T02:30:00+02:00'), '2026-06-01T00:30:00.000Z');
    assert.equal(parseInstant('2026-06-01T02:30:00+0200'), '2026-06-01T00:30:00.000Z');
    assert.equal(parseInstant('2026-06-01T00:00:00.25Z'), '2026-06-01T00:00:00.250Z');
    assert.equal(parseInstant('2026-06-01T00:00Z'), '2026-06-01T00:00:00.000Z');
    // No zone (each server would read another instant), impossible dates and times, names.
    for (const bad of ['2026-06-01T00:00:00', '2026-02-30', '2026-13-01', '2026-06-01T24:00:00Z', '2026-06-01T00:60:00Z', 'stable', '', '20260601']) {
      assert.equal(parseInstant(bad), null, bad);
    }
  });

  it('takes snapshot names that cannot be read as instants', () => {
    for (const ok of ['release-1.2', 'ci_2026', 'a']) assert.ok(isValidSnapshotName(ok), ok);
    for (const bad of ['2026-06-01', '-x', 'a/b', 'a b', '', 'x'.repeat(65), '.hidden']) assert.equal(isValidSnapshotName(bad), false, bad);
  });

  it('checks historyDays', () => {
    assert.equal(normalizeHistoryDays(undefined), undefined);
    assert.equal(normalizeHistoryDays(0), 0);
    assert.equal(normalizeHistoryDays(90), 90);
    for (const bad of [-1, 1.5, '30', 100_000]) assert.throws(() => normalizeHistoryDays(bad), /historyDays/);
  });
});

describe('as-of views', () => {
  it('answers packages, versions and files of then through the store, and memoizes settled instants only', async () => {
    const db = await openDatabase(':memory:');
    try {
      const store = new Store(db);
      const tt = new TimeTravel(store, { pluginFor: () => { throw new Error('not asked'); }, allMembers: () => [], repos: () => [repo] });
      const repo = await store.createRepo({ name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: {} });
      await store.insertBlob('a'.repeat(64), 3);
      const pkg = await store.upsertPackage(repo.id, 'demo', 'Demo');
      for (const v of ['1.0', '2.0']) {
        const vid = await store.upsertVersion(pkg, v, { summary: `v${v}` });
        await store.insertFile({ repoId: repo.id, versionId: vid, path: `packages/demo/demo-${v}.whl`, filename: `demo-${v}.whl`, sha256: 'a'.repeat(64), size: 3, meta: { kind: 'dist' } });
      }
      await new Promise((r) => setTimeout(r, 15));
      const then = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 15));
      await store.deleteVersion((await store.getVersion(pkg, '1.0'))!.id);
      await store.deletePackage(pkg);

      const view = await tt.view(repo, then);
      assert.notEqual(await tt.view(repo, then), view, 'an instant of the last minute is read again');
      const store2 = new AsOfStore(store, [{ view, getDoc: async () => undefined }]);
      const p = (await store2.getPackage(repo.id, 'demo'))!;
      assert.equal(p.displayName, 'Demo');
      assert.ok(p.id < 0, 'a package gone since has an id of the view');
      assert.deepEqual((await store2.listPackages(repo.id)).map((x) => x.name), ['demo']);
      assert.deepEqual(await store2.listVersionNames(p.id), ['1.0', '2.0']);
      assert.deepEqual((await store2.listFilesOfPackage(p.id)).map((f) => f.filename), ['demo-1.0.whl', 'demo-2.0.whl']);
      assert.deepEqual((await store2.listVersionsBrief(p.id)).map((v) => [v.version, v.meta]), [['1.0', {}], ['2.0', {}]]);
      assert.equal((await store2.getFileByPath(repo.id, 'packages/demo/demo-1.0.whl'))?.sha256, 'a'.repeat(64));
      assert.equal(await store.getFileByPath(repo.id, 'packages/demo/demo-1.0.whl'), undefined);

      const settled = new Date(Date.now() - 120_000).toISOString();
      const old = await tt.view(repo, settled);
      assert.equal(await tt.view(repo, settled), old, 'a settled instant is memoized');
      assert.deepEqual(await old.files(), []);
    } finally {
      await db.close();
    }
  });
});
