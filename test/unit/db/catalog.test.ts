// The pages' read model: totals kept by triggers, package pages, and full-text search with
// per-format name forms, filters and no way to inject FTS5 syntax.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { Catalog, RANK_CAP, SEARCH_COUNT_CAP, searchTerms } from '../../../src/db/catalog.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { migrations } from '../../../src/db/migrations.ts';
import type { Sql } from '../../../src/db/sql.ts';
import { SqliteSql } from '../../../src/db/sqlite-sql.ts';
import { Store } from '../../../src/db/store.ts';
import { engines, type Engine } from '../../helpers/engines.ts';

const SHA = 'a'.repeat(64);

const opened: Sql[] = [];
after(async () => {
  for (const s of opened) await s.close();
});

async function setup(engine: Engine) {
  const db = await engine.fresh();
  opened.push(db);
  const store = new Store(db);
  const catalog = new Catalog(db);
  const py = await store.createRepo({ name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: {} });
  const deb = await store.createRepo({ name: 'deb', format: 'apt', kind: 'hosted', publicRead: true, options: {} });
  await store.insertBlob(SHA, 10);
  const add = async (repoId: number, name: string, display: string, summary: string, files: { path: string; size: number }[] = []) => {
    const id = await store.upsertPackage(repoId, name, display);
    await store.setPackageSummary(id, summary);
    const v = await store.upsertVersion(id, '1.0', {});
    for (const f of files) await store.insertFile({ repoId, versionId: v, path: f.path, filename: f.path, sha256: SHA, size: f.size, meta: {}, uploadedBy: 'alice' });
    return id;
  };
  return { db, store, catalog, py, deb, add };
}

for (const engine of engines()) describe(`catalog on ${engine.name}`, () => {
  it('keeps each repository\'s totals through inserts, replacements and deletes', async () => {
    const { store, catalog, py, deb, add } = await setup(engine);
    assert.deepEqual((await catalog.repoSummaries()).get(py.id), { packages: 0, files: 0, bytes: 0, lastChange: py.createdAt });
    const a = await add(py.id, 'alpha', 'Alpha', 'first', [{ path: 'a1', size: 100 }, { path: 'a2', size: 50 }]);
    await add(py.id, 'beta', 'beta', 'second', [{ path: 'b1', size: 7 }]);
    await add(deb.id, 'libc6', 'libc6', 'GNU C Library', [{ path: 'pool/l/libc6.deb', size: 1000 }]);
    let s = (await catalog.repoSummaries()).get(py.id)!;
    assert.deepEqual([s.packages, s.files, s.bytes], [2, 3, 157]);
    assert.ok(s.lastChange! >= py.createdAt);
    const file = (await store.getFileByPath(py.id, 'a1'))!;
    assert.equal(file.uploadedBy, 'alice');
    await store.replaceFileContent(file.id, { sha256: SHA, size: 300, meta: {}, uploadedBy: 'bob' });
    assert.equal((await store.getFileById(file.id))!.uploadedBy, 'bob');
    s = (await catalog.repoSummaries()).get(py.id)!;
    assert.deepEqual([s.packages, s.files, s.bytes], [2, 3, 357]);
    await store.deletePackage(a);
    s = (await catalog.repoSummaries()).get(py.id)!;
    assert.deepEqual([s.packages, s.files, s.bytes], [1, 1, 7]);
    assert.deepEqual([(await catalog.repoSummaries()).get(deb.id)!.packages, (await catalog.repoSummaries()).get(deb.id)!.bytes], [1, 1000]);
    await store.deleteRepo(deb.id);
    assert.equal((await catalog.repoSummaries()).has(deb.id), false);
  });

  it('pages through packages by name and by last change', async () => {
    const { store, catalog, py, add } = await setup(engine);
    const ids = [];
    for (const n of ['delta', 'alpha', 'charlie', 'bravo', 'echo']) ids.push(await add(py.id, n, n, ''));
    // Distinct, known update times: echo oldest … delta newest.
    for (const [i, id] of ids.entries()) await store.sql.run('UPDATE packages SET updated_at = ? WHERE id = ?', [`2026-01-0${9 - i}T00:00:00.000Z`, id]);
    const byName = (await catalog.packagesPage(py.id, { sort: 'name', offset: 0, limit: 2 }));
    assert.equal(byName.total, 5);
    assert.deepEqual(byName.rows.map((r) => r.name), ['alpha', 'bravo']);
    assert.deepEqual((await catalog.packagesPage(py.id, { sort: 'name', offset: 4, limit: 2 })).rows.map((r) => r.name), ['echo']);
    assert.deepEqual((await catalog.packagesPage(py.id, { sort: 'updated', offset: 0, limit: 3 })).rows.map((r) => r.name), ['delta', 'alpha', 'charlie']);
  });

  it('finds names in any of their spellings, summaries by word, and words by their start', async () => {
    const { catalog, py, deb, add } = await setup(engine);
    await add(py.id, 'foo-bar', 'Foo_Bar', 'Tools for bars');
    await add(py.id, 'zope-interface', 'zope.interface', 'Interfaces for Python');
    await add(py.id, 'requests', 'requests', 'HTTP for Humans');
    await add(deb.id, 'libfoo-dev', 'libfoo-dev', 'development files for libfoo');
    const all = [py.id, deb.id];
    const names = async (q: string, repoIds = all) => (await catalog.search(q, { repoIds, offset: 0, limit: 10 })).rows.map((r) => r.name);
    for (const q of ['foo-bar', 'Foo_Bar', 'foo.bar', 'FOO BAR']) assert.deepEqual(await names(q), ['foo-bar'], q);
    assert.deepEqual(await names('zope_interface'), ['zope-interface']);
    assert.deepEqual(await names('humans'), ['requests']);
    assert.deepEqual(await names('req'), ['requests']);
    assert.deepEqual(await names('Intérfaces'), ['zope-interface'], 'diacritics fold');
    assert.deepEqual(await names('libfoo'), ['libfoo-dev']);
    assert.deepEqual(await names('libfoo', [py.id]), [], 'only the repositories asked for');
    assert.deepEqual(await names('nothing-like-it'), []);
    assert.deepEqual(await names(''), []);
    assert.deepEqual(await names('for', []), [], 'no readable repository, no results');
    const hit = (await catalog.search('requests', { repoIds: all, offset: 0, limit: 1 })).rows[0];
    assert.equal(hit.repoId, py.id);
    assert.equal(hit.summary, 'HTTP for Humans');
  });

  it('ranks an exact name above names and summaries that only contain the word', async () => {
    const { catalog, py, add } = await setup(engine);
    await add(py.id, 'flask-login', 'Flask-Login', 'User sessions for flask');
    await add(py.id, 'my-app', 'my-app', 'An app built on flask and flask extensions');
    await add(py.id, 'flask', 'Flask', 'A micro web framework');
    const rows = (await catalog.search('flask', { repoIds: [py.id], offset: 0, limit: 10 })).rows;
    assert.equal(rows[0].name, 'flask');
    assert.equal(rows.at(-1)!.name, 'my-app', 'a name match weighs more than a summary match');
  });

  it('treats every query as words: FTS5 syntax cannot be injected', async () => {
    const { catalog, py, add } = await setup(engine);
    await add(py.id, 'near', 'near', 'a "quoted" summary');
    for (const q of ['"', 'near(', 'NEAR(a b)', '*', 'a OR', 'display_name:x', '^near', '-', 'a AND NOT b', "'; DROP TABLE packages; --", '\u0000']) {
      await assert.doesNotReject(catalog.search(q, { repoIds: [py.id], offset: 0, limit: 10 }), q);
    }
    assert.deepEqual(searchTerms('NEAR(a, b) "x"*'), ['near', 'a', 'b', 'x']);
    assert.equal(searchTerms('a b c d e f g h i j').length, 8);
  });

  it('stops counting at the cap', async () => {
    const { store, catalog, py } = await setup(engine);
    await store.transaction(async () => {
      for (let i = 0; i < SEARCH_COUNT_CAP + 20; i++) await store.setPackageSummary(await store.upsertPackage(py.id, `pkg-${i}`, `pkg-${i}`), 'common word');
    });
    const r = (await catalog.search('common', { repoIds: [py.id], offset: 0, limit: 5 }));
    assert.equal(r.total, SEARCH_COUNT_CAP);
    assert.equal(r.rows.length, 5);
  });

  it('beyond the ranking cap, still puts the exact name first and name matches before the rest', async () => {
    const { store, catalog, py, deb } = await setup(engine);
    await store.transaction(async () => {
      // Summary-only matches first (lowest rowids), then more name matches than are ranked, then the exact name.
      for (let i = 0; i < 50; i++) await store.setPackageSummary(await store.upsertPackage(py.id, `other-${i}`, `other-${i}`), 'mentions widget once');
      for (let i = 0; i < RANK_CAP + 100; i++) await store.upsertPackage(py.id, `widget-${i}`, `widget-${i}`);
      await store.upsertPackage(deb.id, 'widget', 'widget');
    });
    const r = (await catalog.search('Widget', { repoIds: [py.id, deb.id], offset: 0, limit: 60 }));
    assert.equal(r.total, SEARCH_COUNT_CAP);
    assert.equal(r.rows[0].name, 'widget');
    assert.equal(r.rows[0].repoId, deb.id);
    assert.ok(r.rows.slice(1).every((h) => h.name.startsWith('widget-')), 'every name match ranks before a summary match');
    assert.equal((await catalog.search('widget', { repoIds: [py.id], offset: 0, limit: 5 })).rows[0].name.startsWith('widget-'), true, 'an exact name in an unreadable repository is not found');
  });

  it('reports a proxy\'s cached documents and its last contact with the upstream', async () => {
    const { db, catalog, py } = await setup(engine);
    assert.deepEqual((await catalog.proxyState(py.id)), { lastUpstreamContact: null, cachedDocuments: 0 });
    const at = Date.parse('2026-11-30T10:00:00Z');
    await db.run('INSERT INTO proxy_cache (repo_id, key, status, fetched_at) VALUES (?, ?, ?, ?)', [py.id, 'a', 200, at - 1000]);
    await db.run('INSERT INTO proxy_cache (repo_id, key, status, fetched_at) VALUES (?, ?, ?, ?)', [py.id, 'b', 404, at]);
    assert.deepEqual((await catalog.proxyState(py.id)), { lastUpstreamContact: '2026-11-30T10:00:00.000Z', cachedDocuments: 1 });
  });

  it('fills the totals, summaries and search index of a database written before them', { skip: engine.name !== 'sqlite' && 'SQLite history' }, async () => {
    const raw = new DatabaseSync(':memory:');
    for (const m of migrations.slice(0, 3)) raw.exec(m);
    raw.exec('PRAGMA user_version = 3');
    const now = '2026-01-01T00:00:00.000Z';
    raw.prepare("INSERT INTO repositories (id, name, format, kind, created_at) VALUES (1, 'py', 'pypi', 'hosted', ?), (2, 'deb', 'apt', 'hosted', ?)").run(now, now);
    raw.prepare("INSERT INTO blobs VALUES (?, 5, ?)").run(SHA, now);
    raw.prepare("INSERT INTO packages (id, repo_id, name, display_name, created_at, updated_at) VALUES (1, 1, 'old-pkg', 'Old_Pkg', ?, ?), (2, 2, 'libx', 'libx', ?, ?)").run(now, now, now, now);
    raw.prepare(`INSERT INTO versions (package_id, version, meta, created_at) VALUES (1, '1.0', '{"summary":"an older summary"}', ?), (1, '2.0', '{"summary":"the newest summary"}', ?), (2, '1', '{"description":"X library\nmore"}', ?)`).run(now, now, now);
    raw.prepare("INSERT INTO files (repo_id, version_id, path, filename, sha256, size, created_at) VALUES (1, 2, 'p/old.whl', 'old.whl', ?, 5, ?)").run(SHA, now);
    // The migrations after 3, as openDatabase applies them.
    for (let v = 3; v < migrations.length; v++) raw.exec(migrations[v]);
    const sql = new SqliteSql(raw);
    const catalog = new Catalog(sql);
    assert.deepEqual((await catalog.repoSummaries()).get(1), { packages: 1, files: 1, bytes: 5, lastChange: now });
    assert.deepEqual((await catalog.search('newest', { repoIds: [1], offset: 0, limit: 5 })).rows.map((r) => r.summary), ['the newest summary']);
    assert.deepEqual((await catalog.search('old pkg', { repoIds: [1], offset: 0, limit: 5 })).rows.map((r) => r.name), ['old-pkg']);
    assert.deepEqual((await catalog.search('library', { repoIds: [2], offset: 0, limit: 5 })).rows.map((r) => r.summary), ['X library']);
    assert.equal((await new Store(sql).getFileByPath(1, 'p/old.whl'))!.uploadedBy, null);
  });
});
