// `wharf status`, /-/api/v1/status and /-/metrics read each repository's totals: at a million
// files they must come from the totals the triggers keep (repo_stats), not from counting and
// summing the repository's files (seconds per call, on every metrics scrape).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Param, Sql } from '../../../src/db/sql.ts';
import { Store } from '../../../src/db/store.ts';
import { engines } from '../../helpers/engines.ts';

const SHA = 'b'.repeat(64);
const opened: Sql[] = [];
after(async () => {
  for (const s of opened) await s.close();
});

for (const engine of engines()) describe(`repository totals on ${engine.name}`, () => {
  it('are read from the kept totals, without reading the files', async () => {
    const db = await engine.fresh();
    opened.push(db);
    const store = new Store(db);
    const repo = await store.createRepo({ name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: {} });
    await store.insertBlob(SHA, 10);
    for (const name of ['a', 'b']) {
      const id = await store.upsertPackage(repo.id, name, name);
      for (const version of ['1.0', '2.0']) {
        const v = await store.upsertVersion(id, version, {});
        await store.insertFile({ repoId: repo.id, versionId: v, path: `${name}-${version}`, filename: `${name}-${version}`, sha256: SHA, size: 25, meta: {} });
      }
    }
    const statements: string[] = [];
    for (const m of ['get', 'all'] as const) {
      const orig = db[m].bind(db);
      (db as unknown as Record<string, unknown>)[m] = (text: string, params?: readonly Param[]) => {
        statements.push(text);
        return orig(text, params);
      };
    }
    const s = await store.repoStats(repo.id);
    assert.deepEqual([s.packages, s.versions, s.files, s.bytes], [2, 4, 4, 100]);
    assert.ok(s.lastUpdate && s.lastUpdate >= repo.createdAt);
    const readsFiles = statements.filter((t) => /\b(FROM|JOIN) files\b/i.test(t));
    assert.deepEqual(readsFiles, [], 'the totals were counted from the files');
  });
});
