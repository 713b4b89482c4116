// Named locks (Sql.lock / tryLock): one holder at a time, within a process on SQLite and
// across processes on PostgreSQL, where a holder that dies lets the lock go.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { Sql } from '../../../src/db/sql.ts';
import { engineNames, engines, freshPostgresUrl } from '../../helpers/engines.ts';
import { openDatabase } from '../../../src/db/database.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of engines()) {
  describe(`locks on ${engine.name}`, () => {
    const opened: Sql[] = [];
    after(async () => {
      for (const s of opened) await s.close();
    });

    it('lets one holder run at a time and the next in after it, whatever the first did', async () => {
      const sql = await engine.fresh();
      opened.push(sql);
      const events: string[] = [];
      const work = (id: string, fail = false) => sql.lock('publish:1', async () => {
        events.push(`${id} in`);
        await tick(20);
        events.push(`${id} out`);
        if (fail) throw new Error(`${id} failed`);
        return id;
      });
      const results = await Promise.allSettled([work('a', true), work('b'), work('c')]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled']);
      for (let i = 0; i < events.length; i += 2) assert.equal(events[i].split(' ')[0], events[i + 1].split(' ')[0], `no overlap: ${events}`);
      assert.equal(events.length, 6);
      // Different names do not wait for each other.
      let release!: () => void;
      const held = sql.lock('x', () => new Promise<void>((r) => { release = r; }));
      await tick(10);
      assert.deepEqual(await sql.tryLock('y', async () => 1), { ran: true, value: 1 });
      assert.deepEqual(await sql.tryLock('x', async () => 1), { ran: false });
      release();
      await held;
      assert.deepEqual(await sql.tryLock('x', async () => 2), { ran: true, value: 2 });
    });
  });
}

describe('PostgreSQL locks across processes', { skip: !engineNames().includes('postgres') && 'PostgreSQL left out' }, () => {
  it('are held against another connection pool, and released when the holder\'s session dies', async () => {
    const url = await freshPostgresUrl();
    const a = await openDatabase(url);
    const b = await openDatabase(url);
    try {
      let release!: () => void;
      const held = a.lock('gc', () => new Promise<void>((r) => { release = r; }));
      await tick(50);
      assert.deepEqual(await b.tryLock('gc', async () => 'b'), { ran: false }, 'another replica cannot take it');
      release();
      await held;
      assert.deepEqual(await b.tryLock('gc', async () => 'b'), { ran: true, value: 'b' });

      // A replica killed while holding the lock: its session ends, and so does the lock.
      let lostSeen = false;
      const dying = a.lock('sync', (lost) => new Promise<void>((resolve) => lost.addEventListener('abort', () => { lostSeen = true; resolve(); })));
      await tick(50);
      assert.deepEqual(await b.tryLock('sync', async () => 'b'), { ran: false });
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wharf-locks' AND state = 'idle' AND query = 'SELECT pg_advisory_lock($1, $2)'");
      await admin.end();
      let got: { ran: boolean } = { ran: false };
      for (let i = 0; i < 50 && !got.ran; i++) {
        got = await b.tryLock('sync', async () => 'b');
        if (!got.ran) await tick(20);
      }
      assert.equal(got.ran, true, 'the lock went with the dead session');
      await dying;
      assert.equal(lostSeen, true, 'the holder was told it lost the lock');
    } finally {
      await a.close().catch(() => {});
      await b.close();
    }
  });
});
