// First-seen rows of APT/Arch proxies on both engines: the first read of an index backdates
// what it lists ("initial" baseline), later reads do not; rows of packages no longer listed
// by any index the proxy still reads are pruned after the grace period, a bounded number per
// run; rows still listed, and indexes read recently, are kept.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FirstSeenStore, baselineMarker } from '../../../src/db/first-seen-store.ts';
import type { Sql } from '../../../src/db/sql.ts';
import { engines } from '../../helpers/engines.ts';

const opened: Sql[] = [];
after(async () => {
  for (const s of opened) await s.close();
});

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const day = (n: number) => new Date(T0 + n * DAY).toISOString();

async function fresh(engine: { fresh(): Promise<Sql> }): Promise<{ db: Sql; store: FirstSeenStore; repoId: number }> {
  const db = await engine.fresh();
  opened.push(db);
  await db.run(`INSERT INTO repositories (name, format, kind, options, public_read, created_at) VALUES ('p', 'apt', 'proxy', '{}', 1, ?)`, [day(0)]);
  const repoId = Number((await db.get(`SELECT id FROM repositories WHERE name = 'p'`))!.id);
  return { db, store: new FirstSeenStore(db), repoId };
}

for (const engine of engines()) describe(`first-seen store on ${engine.name}`, () => {
  it('backdates the first read of an index only', async () => {
    const { store, repoId } = await fresh(engine);
    await store.sighting(repoId, 'dists/s/main/binary-amd64', ['a', 'b'], 'initial', day(0));
    await store.sighting(repoId, 'dists/s/main/binary-amd64', ['a', 'b', 'c'], 'initial', day(1));
    await store.sighting(repoId, 'dists/s/main/binary-i386', ['d'], 'now', day(2));
    const all = await store.all(repoId);
    assert.equal(all.get('a'), 0);
    assert.equal(all.get('b'), 0);
    assert.equal(all.get('c'), Date.parse(day(1)));
    assert.equal(all.get('d'), Date.parse(day(2)));
  });

  it('prunes rows no index lists any more after the grace period, a bounded number per run', async () => {
    const { db, store, repoId } = await fresh(engine);
    const A = 'dists/s/main/binary-amd64';
    const B = 'dists/s/main/binary-i386';
    const gone = Array.from({ length: 25 }, (_, i) => `pool/g/gone${i}.deb`);
    await store.sighting(repoId, A, ['keep-a', ...gone], 'initial', day(0));
    await store.sighting(repoId, B, ['keep-b'], 'initial', day(0));
    // A drops `gone`; B is read again and again (its upstream index unchanged).
    for (let d = 1; d <= 60; d += 1) {
      await store.sighting(repoId, A, ['keep-a'], 'initial', day(d));
      await store.sighting(repoId, B, ['keep-b'], 'initial', day(d));
    }
    // Within the grace period nothing goes.
    assert.equal(await store.prune(T0 + 20 * DAY, { graceMs: 30 * DAY, limit: 100 }), 0);
    // After it, at most `limit` rows per run.
    assert.equal(await store.prune(T0 + 60 * DAY, { graceMs: 30 * DAY, limit: 10 }), 10);
    assert.equal(await store.prune(T0 + 60 * DAY, { graceMs: 30 * DAY, limit: 100 }), 15);
    assert.equal(await store.prune(T0 + 60 * DAY, { graceMs: 30 * DAY, limit: 100 }), 0);
    const left = [...(await store.all(repoId)).keys()].sort();
    assert.deepEqual(left, [baselineMarker(A), baselineMarker(B), 'keep-a', 'keep-b'].sort());
    // keep-a and keep-b keep their first sight.
    assert.equal((await store.all(repoId)).get('keep-a'), 0);
    void db;
  });

  it('an index not read within the grace period is forgotten with what only it listed; its next read is a first read again', async () => {
    const { store, repoId } = await fresh(engine);
    const A = 'a/db';
    const B = 'b/db';
    await store.sighting(repoId, A, ['both', 'only-a'], 'initial', day(0));
    await store.sighting(repoId, B, ['both', 'only-b'], 'initial', day(0));
    for (let d = 1; d <= 50; d += 1) await store.sighting(repoId, B, ['both', 'only-b'], 'initial', day(d));
    // A was last read 50 days ago: only-a is listed by no index read since.
    assert.equal(await store.prune(T0 + 50 * DAY, { graceMs: 30 * DAY, limit: 100 }), 2);
    assert.deepEqual([...(await store.all(repoId)).keys()].sort(), [baselineMarker(B), 'both', 'only-b'].sort());
    await store.sighting(repoId, A, ['both', 'only-a'], 'initial', day(51));
    assert.equal((await store.all(repoId)).get('only-a'), 0, 'backdated again: a first read');
  });
});
