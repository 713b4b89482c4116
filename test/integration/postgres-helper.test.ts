// The test PostgreSQL starts from nothing, the pg driver talks to it, LISTEN/NOTIFY carries a
// notification from one connection to another (what replicas will be told changes by), and
// nothing is left behind: no process, no directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { startPostgres } from '../helpers/postgres.ts';

test('a PostgreSQL started by the test: connects, delivers NOTIFY to a listener, and is gone after', async () => {
  const started = Date.now();
  const db = await startPostgres();
  const pid = Number(readFileSync(join(db.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let closed = false;
  try {
    // Notifications stay within one database: both connections use the same, a new one.
    const url = await db.createDatabase('wharf_smoke');
    const listener = new pg.Client({ connectionString: url });
    const sender = new pg.Client({ connectionString: url });
    await listener.connect();
    await sender.connect();
    try {
      const { rows } = await sender.query<{ v: string; db: string }>("SELECT current_setting('server_version') AS v, current_database() AS db");
      assert.match(rows[0].v, /^\d+\.\d+/);
      assert.equal(rows[0].db, 'wharf_smoke');
      const got = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
      await listener.query('LISTEN repo_changes');
      await sender.query("SELECT pg_notify('repo_changes', '42')");
      const n = await Promise.race([got, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no notification within 5 s')), 5000))]);
      assert.deepEqual([n.channel, n.payload], ['repo_changes', '42']);
      assert.notEqual(n.processId, (listener as unknown as { processID: number }).processID, 'sent by the other connection');
    } finally {
      await listener.end();
      await sender.end();
    }
    await db.close();
    closed = true;
    assert.equal(existsSync(db.dir), false, 'the directory is removed');
    const state = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    assert.ok(state === '' || state.startsWith('Z'), `the postmaster (pid ${pid}) is stopped, not ${state}`);
    assert.ok(Date.now() - started < 30_000);
  } finally {
    if (!closed) await db.close();
  }
});
