// The pure parts of `wharf migrate`: the foreign-key order of the copy, the page loop (one
// page in memory at a time, every row once) and the INSERT statements it writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyPages, insertStatements, quoteName } from '../../../src/db/migrate/page-copy.ts';
import { copyOrder } from '../../../src/db/migrate/table-order.ts';
import type { Row } from '../../../src/db/sql.ts';

test('tables come after the tables they reference; ties keep the given order', () => {
  // Wharf's schema, listed in an order that breaks every foreign key.
  const order = copyOrder([
    { name: 'files', references: ['versions', 'blobs', 'repositories'] },
    { name: 'versions', references: ['packages'] },
    { name: 'packages', references: ['repositories'] },
    { name: 'tokens', references: ['users'] },
    { name: 'repositories', references: [] },
    { name: 'users', references: [] },
    { name: 'blobs', references: [] },
    { name: 'settings', references: [] },
  ]);
  assert.deepEqual(order, ['repositories', 'packages', 'versions', 'users', 'tokens', 'blobs', 'files', 'settings']);
  for (const [table, refs] of [['files', ['versions', 'blobs', 'repositories']], ['versions', ['packages']], ['tokens', ['users']]] as const) {
    for (const r of refs) assert.ok(order.indexOf(r) < order.indexOf(table), `${r} before ${table}`);
  }
});

test('a self-reference and a reference outside the set do not block; a cycle is refused', () => {
  assert.deepEqual(copyOrder([{ name: 'tree', references: ['tree', 'elsewhere'] }, { name: 'a', references: [] }]), ['tree', 'a']);
  assert.throws(() => copyOrder([{ name: 'a', references: ['b'] }, { name: 'b', references: ['a'] }, { name: 'c', references: [] }]), /a, b reference each other in a cycle/);
});

/** A table of `n` rows with gaps in its keys, that records the largest page ever asked for. */
function fakeTable(keys: number[]) {
  const rows: Row[] = keys.map((k) => ({ id: k, v: `row ${k}` }));
  const reads: (number | null)[] = [];
  return {
    reads,
    source: {
      async read(after: number | null, limit: number) {
        reads.push(after);
        return rows.filter((r) => after === null || (r.id as number) > after).slice(0, limit);
      },
      key: (r: Row) => r.id as number,
    },
  };
}

test('copyPages writes every row once, in order, one page at a time', async () => {
  const keys = Array.from({ length: 2_500 }, (_, i) => i * 3 + 1);
  const t = fakeTable(keys);
  const written: number[] = [];
  const pages: number[] = [];
  const progress: number[] = [];
  const n = await copyPages(t.source, async (rows) => {
    pages.push(rows.length);
    written.push(...rows.map((r) => r.id as number));
  }, 1000, (c) => progress.push(c));
  assert.equal(n, 2_500);
  assert.deepEqual(written, keys);
  assert.deepEqual(pages, [1000, 1000, 500]);
  assert.deepEqual(progress, [1000, 2000, 2500]);
  // Keyset paging: each read starts after the last key of the page before.
  assert.deepEqual(t.reads, [null, keys[999], keys[1999]]);
});

test('copyPages: an exact multiple of the page ends on an empty read; an empty table writes nothing', async () => {
  const t = fakeTable(Array.from({ length: 2_000 }, (_, i) => i + 1));
  const pages: number[] = [];
  assert.equal(await copyPages(t.source, async (rows) => { pages.push(rows.length); }, 1000), 2_000);
  assert.deepEqual(pages, [1000, 1000]);
  assert.deepEqual(t.reads, [null, 1000, 2000]);
  const empty = fakeTable([]);
  assert.equal(await copyPages(empty.source, async () => assert.fail('nothing to write'), 10), 0);
});

test('copyPages stops on a failed write and on a source that does not advance', async () => {
  const t = fakeTable([1, 2, 3, 4, 5]);
  let writes = 0;
  await assert.rejects(copyPages(t.source, async () => {
    if (++writes === 2) throw new Error('target refused');
  }, 2), /target refused/);
  assert.equal(writes, 2);
  const stuck = { read: async () => [{ id: 1 }, { id: 1 }], key: (r: Row) => r.id as number };
  await assert.rejects(copyPages(stuck, async () => {}, 2), /paging stalled at key 1/);
});

test('insertStatements: quoted names, one tuple per row, split below the parameter limit', () => {
  const rows = Array.from({ length: 7 }, (_, i) => [i, `n${i}`, new Uint8Array([i])]);
  const s = insertStatements('files', ['id', 'path', 'body'], rows, 9);
  assert.equal(s.length, 3);
  assert.equal(s[0].sql, 'INSERT INTO "files" ("id", "path", "body") VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)');
  assert.deepEqual(s.map((x) => x.params.length), [9, 9, 3]);
  assert.deepEqual(s[2].params, [6, 'n6', new Uint8Array([6])]);
  assert.equal(quoteName('we"ird'), '"we""ird"');
  assert.throws(() => insertStatements('t', ['a', 'b'], [[1]]), /a row of 1 values for 2 columns/);
});
