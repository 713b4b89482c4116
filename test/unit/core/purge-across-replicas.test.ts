// A history purge (a leaked secret) reaches every process: another replica that had already
// built its view of a past instant lets it go at its next catch-up of the change feed, instead
// of serving the purged file from memory until restarted. Two Wharf instances on one database
// stand for two replicas.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Wharf } from '../../../src/core/wharf.ts';
import { twoCoreReplicas } from '../../helpers/core-replicas.ts';
import { engines } from '../../helpers/engines.ts';

for (const engine of engines()) {
  describe(`history purge across replicas on ${engine.name}`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    after(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it("drops the purged file from another replica's memoized view of the past", async () => {
      const { a: { wharf: a }, b: { wharf: b } } = await twoCoreReplicas(engine, cleanup);
      const created = await a.createRepo({ name: 'sec', format: 'files', options: { historyDays: 36_500 } });
      for (const [path, body] of [['conf/leak.txt', 'password=hunter2\n'], ['conf/ok.txt', 'fine\n']]) {
        const staged = await a.blobs.stage(Readable.from([Buffer.from(body)]));
        assert.equal((await a.services.ingest(created, { staged, filename: path.split('/')[1], fields: { path: [path] } })).status, 'created');
      }
      await a.services.deleteFile(created, 'conf/leak.txt');
      // Both files arrived long ago and the leak was deleted a while ago: a settled instant in
      // between is memoized by each process that reads it.
      await a.store.sql.run("UPDATE file_history SET valid_from = '2026-01-01T00:00:00.000Z' WHERE repo_id = ?", [created.id]);
      await a.store.sql.run("UPDATE file_history SET valid_to = '2026-03-01T00:00:00.000Z' WHERE repo_id = ? AND valid_to IS NOT NULL", [created.id]);
      const repo = { ...created, createdAt: '2025-01-01T00:00:00.000Z' };
      const at = '2026-02-01T00:00:00.000Z';
      const pathsAt = async (w: Wharf) => {
        await w.feed.catchUp();
        const ctx = await w.timeTravel.contextAt(w.contextFor(repo), at);
        // A download's lookup (memoized per path in the view) and a listing (read afresh).
        const leak = await ctx.store.getFileByPath(repo.id, 'conf/leak.txt');
        const listed = (await ctx.store.listFilesByPrefix(repo.id, 'conf/')).map((f) => f.path).sort();
        return { leak: leak?.path ?? null, listed };
      };
      assert.deepEqual(await pathsAt(b), { leak: 'conf/leak.txt', listed: ['conf/leak.txt', 'conf/ok.txt'] });
      assert.equal(await a.timeTravel.purge(repo, 'conf/leak.txt'), 1);
      assert.deepEqual(await pathsAt(a), { leak: null, listed: ['conf/ok.txt'] });
      assert.deepEqual(await pathsAt(b), { leak: null, listed: ['conf/ok.txt'] }, 'the other replica still serves the purged file');
    });
  });
}
