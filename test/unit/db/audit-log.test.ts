// The audit trail's store on both engines: newest first, filters, pages by id, `since` found by
// bisecting the ids (with gaps left by pruning), and pruning oldest first.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AuditLog, type NewAuditRow } from '../../../src/db/audit-log.ts';
import type { Sql } from '../../../src/db/sql.ts';
import { engines } from '../../helpers/engines.ts';

const opened: Sql[] = [];
after(async () => {
  for (const s of opened) await s.close();
});

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
const row = (minute: number, o: Partial<NewAuditRow> = {}): NewAuditRow => ({
  at: at(minute), actor: 'admin', tokenId: null, tokenName: null, address: '127.0.0.1', repo: 'r', action: 'upload', target: `f${minute}`, detail: { minute }, ...o,
});

for (const engine of engines()) describe(`audit log on ${engine.name}`, () => {
  it('lists newest first with filters and pages by id', async () => {
    const db = await engine.fresh();
    opened.push(db);
    const log = new AuditLog(db);
    for (let m = 0; m < 30; m++) {
      await log.insert(row(m, { repo: m % 3 === 0 ? 'a' : 'b', actor: m % 2 ? 'alice' : 'bob', action: m % 5 === 0 ? 'repo-update' : m % 5 === 1 ? 'repo-create' : 'upload' }));
    }
    const all = await log.list({ limit: 100 });
    assert.equal(all.length, 30);
    assert.deepEqual(all.map((e) => e.detail.minute), [...Array(30).keys()].reverse());
    assert.deepEqual(all[0], { id: all[0].id, at: at(29), actor: 'alice', tokenId: null, tokenName: null, address: '127.0.0.1', repo: 'b', action: 'upload', target: 'f29', detail: { minute: 29 } });
    assert.ok((await log.list({ repo: 'a', limit: 100 })).every((e) => e.repo === 'a'));
    assert.equal((await log.list({ repo: 'a', limit: 100 })).length, 10);
    assert.equal((await log.list({ actor: 'alice', limit: 100 })).length, 15);
    assert.equal((await log.list({ action: 'repo-*', limit: 100 })).length, 12);
    assert.equal((await log.list({ action: 'repo-update', limit: 100 })).length, 6);
    assert.equal((await log.list({ action: 'repo_*', limit: 100 })).length, 0, 'no LIKE wildcards');
    const page1 = await log.list({ limit: 7 });
    const page2 = await log.list({ limit: 7, before: page1[6].id });
    assert.deepEqual([...page1, ...page2].map((e) => e.detail.minute), [...Array(30).keys()].reverse().slice(0, 14));
  });

  it('finds `since` by the ids, through gaps, and prunes oldest first', async () => {
    const db = await engine.fresh();
    opened.push(db);
    const log = new AuditLog(db);
    for (let m = 0; m < 100; m++) await log.insert(row(m));
    // Gaps in the ids, as pruning and rolled-back inserts leave them.
    await db.run('DELETE FROM audit_log WHERE id % 7 = 0 OR (id > 40 AND id < 60)');
    const minutes = (await log.list({ limit: 1000 })).map((e) => Number(e.detail.minute));
    for (const since of [-5, 0, 1, 6, 7, 13, 39, 40, 45, 59, 60, 61, 98, 99]) {
      const got = (await log.list({ since: at(since), limit: 1000 })).map((e) => Number(e.detail.minute));
      assert.deepEqual(got, minutes.filter((m) => m >= since), `since minute ${since}`);
      // Between two entries' times.
      const half = new Date(T0 + since * 60_000 + 30_000).toISOString();
      assert.deepEqual((await log.list({ since: half, limit: 1000 })).map((e) => Number(e.detail.minute)), minutes.filter((m) => m > since), `since minute ${since}.5`);
    }
    assert.deepEqual(await log.list({ since: at(100), limit: 10 }), []);
    assert.equal(await log.prune(at(50)), minutes.filter((m) => m < 50).length);
    assert.deepEqual((await log.list({ limit: 1000 })).map((e) => Number(e.detail.minute)), minutes.filter((m) => m >= 50));
    assert.equal(await log.prune(at(50)), 0);
    assert.deepEqual(await new AuditLog(await engine.fresh().then((d) => (opened.push(d), d))).list({ since: at(0), limit: 5 }), [], 'an empty trail');
  });
});
