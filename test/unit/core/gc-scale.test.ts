// gc's cost at a million blobs (issue 12): with nothing to collect it must not stat every
// blob file nor ask the database about each one. It checks the blobs it finds on disk against
// the rows in batches, and looks at (stats) only those no row references.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Wharf } from '../../../src/core/wharf.ts';
import { openDatabase } from '../../../src/db/database.ts';
import type { Param } from '../../../src/db/sql.ts';
import { Store } from '../../../src/db/store.ts';
import { formats } from '../../../src/formats/index.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';
import { engines } from '../../helpers/engines.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const BLOBS = 1200;

for (const engine of engines()) {
  describe(`gc at scale on ${engine.name}`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    after(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it('checks blobs against the rows in batches and stats only the unreferenced ones', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'wharf-gc-scale-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const sql = await openDatabase(await engine.location(join(dir, 'wharf.db')));
      cleanup.push(() => sql.close());
      const blobs = new FsBlobStore(join(dir, 'blobs'));
      await blobs.init();
      const store = new Store(sql);
      const wharf = await Wharf.open(store, blobs, formats, silent);
      const repo = await wharf.createRepo({ name: 'f', format: 'files' });
      // Rows and bytes written directly (an upload each would take minutes): all referenced.
      await store.transaction(async () => {
        for (let i = 0; i < BLOBS; i++) {
          const staged = await blobs.stageBuffer(Buffer.from(`blob ${i}\n`));
          await blobs.commit(staged);
          await blobs.discard(staged);
          await store.insertBlob(staged.sha256, staged.size);
          await store.insertFile({ repoId: repo.id, versionId: null, path: `d/${i}`, filename: String(i), sha256: staged.sha256, size: staged.size, meta: {} });
        }
      });
      // And one orphan file a crash left without a row, old enough to go.
      const orphan = await blobs.stageBuffer(Buffer.from('orphan\n'));
      await blobs.commit(orphan);
      await blobs.discard(orphan);

      let queries = 0;
      for (const m of ['get', 'all'] as const) {
        const orig = sql[m].bind(sql);
        (sql as unknown as Record<string, unknown>)[m] = (text: string, params?: readonly Param[]) => {
          if (/\bfiles\b/.test(text)) queries++;
          return orig(text, params);
        };
      }
      let listed = 0;
      const list = blobs.list.bind(blobs);
      blobs.list = () => {
        listed++;
        return list();
      };
      const stats: string[] = [];
      const stat = blobs.stat.bind(blobs);
      blobs.stat = (sha256: string) => {
        stats.push(sha256);
        return stat(sha256);
      };

      // A dry run names what would go and deletes nothing, at the same cost.
      const dry = await wharf.gc({ graceMs: 0, dryRun: true });
      assert.deepEqual(dry, { blobs: 1, bytes: 'orphan\n'.length, kept: 0, dryRun: true });
      assert.equal(await blobs.has(orphan.sha256), true, 'the dry run deleted the blob');
      assert.equal(listed, 0);
      stats.length = 0;
      queries = 0;
      const r = await wharf.gc({ graceMs: 0 });
      assert.deepEqual(r, { blobs: 1, bytes: 'orphan\n'.length, kept: 0 });
      assert.equal(await blobs.has(orphan.sha256), false);
      assert.equal(listed, 0, 'gc walked every blob with its size and time (a stat each)');
      assert.deepEqual(stats, [orphan.sha256], 'gc looked at referenced blobs');
      assert.ok(queries <= 20, `gc asked the database about files ${queries} times for ${BLOBS} blobs (one query per blob?)`);
      // Every referenced blob is still there.
      assert.equal((await wharf.gc({ graceMs: 0 })).blobs, 0);
    });
  });
}
