// Time travel against a client asking for many distinct instants: instants between the same
// two changes of the history are one state, built once (the memo's key is the state, not the
// instant), so 200 instants of a repository that changed twice cost two builds, not 200.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AS_OF_BUILDS_AT_ONCE, TimeTravel } from '../../../src/core/time-travel.ts';
import type { FormatPlugin, RepoContext } from '../../../src/core/format-plugin.ts';
import type { Repository } from '../../../src/core/model.ts';
import { Store } from '../../../src/db/store.ts';
import { engine, engineNames } from '../../helpers/engines.ts';

const FILES = Number(process.env.WHARF_TT_MEMO_FILES ?? 2000);

for (const name of engineNames()) {
  describe(`time travel memo (${name})`, () => {
    let store: Store;
    let repo: Repository;
    let tt: TimeTravel;
    let builds = 0;
    const plugin = {
      asOf: {
        scopeOfKey: () => 'all',
        buildScope: async (ctx: RepoContext) => {
          builds++;
          const files = await ctx.store.listFilesByPrefix(ctx.repo.id, '');
          return [{ key: 'list', contentType: 'text/plain', body: files.map((f) => f.path).join('\n') }];
        },
      },
    } as unknown as FormatPlugin;

    before(async () => {
      store = new Store(await engine(name).fresh());
      const created = await store.createRepo({ name: 'big', format: 'files', kind: 'hosted', publicRead: true, options: { historyDays: 36_500 } });
      repo = { ...created, createdAt: '2025-01-01T00:00:00.000Z' };
      const sha = 'a'.repeat(64);
      await store.insertBlob(sha, 1);
      await store.transaction(async () => {
        for (let i = 0; i < FILES; i++) await store.insertFile({ repoId: repo.id, versionId: null, path: `d${i % 50}/f${i}.bin`, filename: `f${i}.bin`, sha256: sha, size: 1, meta: {} });
      });
      await store.sql.run("UPDATE file_history SET valid_from = '2026-01-01T00:00:00.000Z' WHERE repo_id = ?", [repo.id]);
      // One change later: a file deleted on 2026-03-01.
      await store.sql.run("DELETE FROM files WHERE repo_id = ? AND path = 'd0/f0.bin'", [repo.id]);
      await store.sql.run("UPDATE file_history SET valid_to = '2026-03-01T00:00:00.000Z' WHERE repo_id = ? AND valid_to IS NOT NULL", [repo.id]);
      tt = new TimeTravel(store, { pluginFor: () => plugin, allMembers: () => [], repos: () => [repo] });
    });
    after(async () => store.sql.close());

    const list = async (at: string) => {
      const base = { repo, store, services: { getIndex: async () => undefined, publish: async () => {}, stateOf: () => ({}) }, state: {} } as unknown as RepoContext;
      const ctx = await tt.contextAt(base, at);
      const doc = await ctx.store.getIndex(repo.id, 'list');
      return String(doc!.body).split('\n');
    };

    it('200 distinct instants over two states build twice, and answer each state right', async () => {
      const heapBefore = process.memoryUsage().heapUsed;
      const t0 = Date.parse('2026-02-01T00:00:00.000Z');
      const t1 = Date.parse('2026-06-01T00:00:00.000Z');
      for (let i = 1; i <= 100; i++) {
        assert.equal((await list(new Date(t0 + i).toISOString())).length, FILES);
        assert.equal((await list(new Date(t1 + i).toISOString())).length, FILES - 1);
      }
      const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
      console.error(`# ${FILES} files, 200 instants: ${builds} builds, heap +${heapMb.toFixed(1)} MiB`);
      assert.ok(builds <= 4, `${builds} builds for 2 states`);
      // Before the first file: the empty state.
      assert.deepEqual(await list('2025-06-01T00:00:00.000Z'), ['']);
    });

    it('distinct states asked at once build at most AS_OF_BUILDS_AT_ONCE at a time, and all answer', async () => {
      tt = new TimeTravel(store, { pluginFor: () => plugin, allMembers: () => [], repos: () => [repo] });
      const lists = await Promise.all(['2025-06-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-02-02T00:00:00.000Z'].map(list));
      assert.deepEqual(lists.map((l) => l.length), [1, FILES, FILES - 1, FILES]);
      assert.ok(tt.builds.peak >= 1 && tt.builds.peak <= AS_OF_BUILDS_AT_ONCE, `peak ${tt.builds.peak}`);
    });
  });
}
