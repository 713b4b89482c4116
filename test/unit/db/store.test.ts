// The metadata store's contract, on every engine (SQLite and PostgreSQL): what each method
// returns, what transactions guarantee, and the orders the formats rely on (paths by bytes,
// versions by insertion, the change feed by commit).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { ChangeLog } from '../../../src/db/change-log.ts';
import type { Sql } from '../../../src/db/sql.ts';
import { Store } from '../../../src/db/store.ts';
import { engines } from '../../helpers/engines.ts';

const sha = (c: string) => c.repeat(64).slice(0, 64);

for (const engine of engines()) {
  describe(`store on ${engine.name}`, () => {
    const opened: Sql[] = [];
    const fresh = async () => {
      const sql = await engine.fresh();
      opened.push(sql);
      const store = new Store(sql);
      const repo = await store.createRepo({ name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: { x: 1 } });
      return { sql, store, repo };
    };
    after(async () => {
      for (const s of opened) await s.close();
    });

    it('creates, reads, updates and deletes repositories; names are unique', async () => {
      const { store, repo } = await fresh();
      assert.deepEqual({ ...repo, id: 0, createdAt: '' }, { id: 0, name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: { x: 1 }, createdAt: '' });
      assert.deepEqual(await store.getRepoByName('py'), repo);
      assert.deepEqual(await store.getRepoById(repo.id), repo);
      await assert.rejects(store.createRepo({ name: 'py', format: 'apt', kind: 'hosted', publicRead: false, options: {} }));
      const b = await store.createRepo({ name: 'a-files', format: 'files', kind: 'hosted', publicRead: false, options: {} });
      assert.deepEqual((await store.listRepos()).map((r) => r.name), ['a-files', 'py']);
      await store.updateRepo(b.id, { publicRead: true, options: { y: 'z' } });
      assert.deepEqual(await store.getRepoById(b.id), { ...b, publicRead: true, options: { y: 'z' } });
      await store.deleteRepo(b.id);
      assert.equal(await store.getRepoByName('a-files'), undefined);
    });

    it('upserts packages and versions idempotently, keeping insertion order of versions', async () => {
      const { store, repo } = await fresh();
      const p = await store.upsertPackage(repo.id, 'foo-bar', 'Foo_Bar');
      assert.equal(await store.upsertPackage(repo.id, 'foo-bar', 'Foo_Bar'), p);
      await store.setPackageSummary(p, 'a summary');
      await store.updatePackageMeta(p, { k: ['v'] });
      const row = (await store.getPackage(repo.id, 'foo-bar'))!;
      assert.deepEqual([row.id, row.displayName, row.summary, row.meta], [p, 'Foo_Bar', 'a summary', { k: ['v'] }]);
      assert.deepEqual(await store.getPackageById(p), row);
      const versions = ['2.0', '1.0', '10.0'];
      const ids = [];
      for (const v of versions) ids.push(await store.upsertVersion(p, v, { description: `long text of ${v}`, summary: v }));
      assert.equal(await store.upsertVersion(p, '1.0', { other: true }), ids[1], 'an existing version keeps its id and meta');
      assert.deepEqual(await store.listVersionNames(p), versions);
      assert.deepEqual((await store.listVersions(p)).map((v) => v.meta), versions.map((v) => ({ description: `long text of ${v}`, summary: v })));
      assert.deepEqual((await store.listVersionsBrief(p)).map((v) => v.meta), versions.map((v) => ({ summary: v })), 'brief versions leave the description out');
      assert.equal(await store.versionDescription(ids[2]), 'long text of 10.0');
      await store.updateVersionMeta(ids[0], {});
      assert.equal(await store.versionDescription(ids[0]), null);
      assert.deepEqual((await store.getVersion(p, '10.0'))!.id, ids[2]);
      assert.deepEqual((await store.getVersionById(ids[2]))!.version, '10.0');
      await store.deleteVersion(ids[2]);
      assert.deepEqual(await store.listVersionNames(p), ['2.0', '1.0']);
      await store.upsertPackage(repo.id, 'alpha', 'alpha');
      assert.deepEqual((await store.listPackages(repo.id)).map((x) => x.name), ['alpha', 'foo-bar']);
      await store.deletePackage(p);
      assert.equal(await store.getVersion(p, '1.0'), undefined, 'versions go with their package');
    });

    it('stores files with their uploader, finds them by path, version, package and prefix', async () => {
      const { store, repo } = await fresh();
      const p = await store.upsertPackage(repo.id, 'foo', 'foo');
      const v1 = await store.upsertVersion(p, '1', {});
      const v2 = await store.upsertVersion(p, '2', {});
      await store.insertBlob(sha('a'), 5);
      await store.insertBlob(sha('a'), 5);
      await store.insertBlob(sha('b'), 1 << 40);
      const f1 = await store.insertFile({ repoId: repo.id, versionId: v1, path: 'packages/foo-1.whl', filename: 'foo-1.whl', sha256: sha('a'), size: 5, meta: { m: 1 }, uploadedBy: 'alice' });
      assert.deepEqual([f1.path, f1.size, f1.meta, f1.uploadedBy, f1.versionId], ['packages/foo-1.whl', 5, { m: 1 }, 'alice', v1]);
      const big = await store.insertFile({ repoId: repo.id, versionId: v2, path: 'packages/foo-2.tar.gz', filename: 'foo-2.tar.gz', sha256: sha('b'), size: 1 << 40, meta: {} });
      assert.equal(big.size, 1 << 40, 'sizes above 4 GiB survive');
      assert.equal(big.uploadedBy, null);
      await assert.rejects(store.insertFile({ ...f1, meta: {} }), 'a path is unique in its repository');
      assert.deepEqual(await store.getFileByPath(repo.id, 'packages/foo-1.whl'), f1);
      assert.deepEqual(await store.getFileById(f1.id), f1);
      assert.deepEqual((await store.listFilesOfVersion(v2)).map((f) => f.id), [big.id]);
      assert.deepEqual((await store.listFilesOfPackage(p)).map((f) => [f.filename, f.version]), [['foo-1.whl', '1'], ['foo-2.tar.gz', '2']]);
      assert.deepEqual((await store.listFilesByPrefix(repo.id, 'packages/foo-2')).map((f) => f.id), [big.id]);
      assert.deepEqual((await store.listFilesAfterId(repo.id, f1.id)).map((f) => f.id), [big.id]);
      assert.equal(await store.countFiles(repo.id), 2);
      await store.replaceFileContent(f1.id, { sha256: sha('b'), size: 7, meta: { n: 2 }, uploadedBy: 'bob' });
      const replaced = (await store.getFileById(f1.id))!;
      assert.deepEqual([replaced.sha256, replaced.size, replaced.meta, replaced.uploadedBy], [sha('b'), 7, { n: 2 }, 'bob']);
      await store.updateFileMeta(f1.id, { z: true });
      assert.deepEqual((await store.getFileById(f1.id))!.meta, { z: true });
      const stats = await store.repoStats(repo.id);
      assert.deepEqual([stats.packages, stats.versions, stats.files, stats.bytes], [1, 2, 2, 7 + (1 << 40)]);
      await store.deleteFile(f1.id);
      assert.equal(await store.getFileByPath(repo.id, 'packages/foo-1.whl'), undefined);
    });

    it('lists a directory by skipping over subtrees, in byte order', async () => {
      const { store, repo } = await fresh();
      await store.insertBlob(sha('a'), 1);
      const paths = ['a/x', 'a/y/z', 'a-b', 'a.txt', 'B', 'b/1', 'b/2/3', 'é', 'z', 'a/y/w'];
      for (const path of paths) await store.insertFile({ repoId: repo.id, versionId: null, path, filename: path, sha256: sha('a'), size: 1, meta: {} });
      const root = await store.listDirectory(repo.id, '');
      assert.deepEqual(root.dirs, ['a', 'b']);
      assert.deepEqual(root.files.map((f) => f.path), ['B', 'a-b', 'a.txt', 'z', 'é'], 'paths order by bytes, not by locale');
      const a = await store.listDirectory(repo.id, 'a/');
      assert.deepEqual([a.dirs, a.files.map((f) => f.path)], [['y'], ['a/x']]);
      assert.equal((await store.listDirectory(repo.id, '', 3)).dirs.length + (await store.listDirectory(repo.id, '', 3)).files.length, 3);
      assert.deepEqual((await store.listFilesByPrefix(repo.id, 'a/y/')).map((f) => f.path), ['a/y/w', 'a/y/z']);
    });

    it('walks every file and blob row across pages, and finds unreferenced blobs', async () => {
      const { store, repo } = await fresh();
      const n = 1100;
      await store.transaction(async () => {
        for (let i = 0; i < n; i++) {
          const h = i.toString(16).padStart(64, '0');
          await store.insertBlob(h, i);
          if (i % 2 === 0) await store.insertFile({ repoId: repo.id, versionId: null, path: `f/${String(i).padStart(5, '0')}`, filename: 'x', sha256: h, size: i, meta: {} });
        }
      });
      const files = [];
      for await (const f of store.iterateFiles()) files.push(f.path);
      assert.equal(files.length, n / 2);
      assert.deepEqual(files, [...files].sort());
      let blobs = 0;
      for await (const b of store.iterateBlobRows()) blobs += b.size >= 0 ? 1 : 0;
      assert.equal(blobs, n);
      const unref = await store.unreferencedBlobs('', 10);
      assert.deepEqual(unref.map((b) => b.size), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
      assert.equal(await store.isBlobReferenced(sha('0')), true);
      assert.equal(await store.dropBlobIfUnreferenced(sha('0')), false);
      assert.equal(await store.dropBlobIfUnreferenced(unref[0].sha256), true);
      assert.equal((await store.unreferencedBlobs('', 1))[0].size, 3);
    });

    it('reads one repository\'s files a page at a time, in path order, with their metadata', async () => {
      const { store, repo } = await fresh();
      const other = await store.createRepo({ name: 'other', format: 'files', kind: 'hosted', publicRead: false, options: {} });
      await store.insertBlob(sha('a'), 1);
      const paths = ['b/2', 'a', 'b/1', 'é', 'B', 'a-b', 'a/x'];
      for (const [i, path] of paths.entries()) await store.insertFile({ repoId: repo.id, versionId: null, path, filename: path, sha256: sha('a'), size: 1, meta: { i, big: ['x'.repeat(100)] } });
      await store.insertFile({ repoId: other.id, versionId: null, path: 'a/y', filename: 'y', sha256: sha('a'), size: 1, meta: {} });
      const pages: string[][] = [];
      for await (const page of store.eachFile(repo.id, { pageSize: 3 })) pages.push(page.map((f) => f.path));
      assert.deepEqual(pages, [['B', 'a', 'a-b'], ['a/x', 'b/1', 'b/2'], ['é']]);
      const all = [];
      for await (const page of store.eachFile(repo.id, { pageSize: 7, omitMeta: 'big' })) all.push(...page);
      assert.deepEqual(all.map((f) => f.meta), [4, 1, 5, 6, 2, 0, 3].map((i) => ({ i })), 'without the key left out');
      assert.deepEqual((await store.listFilesPage(repo.id, 'b/1', 10)).map((f) => f.path), ['b/2', 'é']);
      const many = [...paths, 'missing', ...Array.from({ length: 600 }, (_, i) => `nope/${i}`), 'a/y'];
      assert.deepEqual((await store.getFilesByPaths(repo.id, many)).map((f) => f.path).sort(), [...paths].sort(), 'in batches; other repositories\' and missing paths left out');
    });

    it('pins blobs for a commit or for gc, each keeping the other off, until unpinned or expired', async () => {
      const { store, repo } = await fresh();
      const [x, y] = [sha('1'), sha('2')];
      await store.insertBlob(x, 1);
      await store.insertBlob(y, 1);
      const pins = (await store.pinBlobs([x], 60_000))!;
      assert.equal(pins.length, 1);
      assert.equal(await store.claimBlobForDelete(x, 60_000), null, 'an upload has it pinned');
      await store.unpinBlobs(pins);
      const claim = await store.claimBlobForDelete(x, 60_000);
      assert.ok(claim, 'unpinned and unreferenced: gc may take it');
      assert.equal((await store.unreferencedBlobs('', 10)).some((b) => b.sha256 === x), false, 'its row is gone with the claim');
      assert.equal(await store.pinBlobs([y, x], 60_000), null, 'an upload waits while gc deletes');
      assert.equal(await store.claimBlobForDelete(x, 60_000), null, 'one delete at a time');
      await store.unpinBlobs([claim!]);
      assert.equal((await store.pinBlobs([y, x], 60_000))!.length, 2);
      await store.insertFile({ repoId: repo.id, versionId: null, path: 'y', filename: 'y', sha256: y, size: 1, meta: {} });
      assert.equal(await store.claimBlobForDelete(y, 60_000), null, 'a referenced blob is never claimed');
      // A process that died leaves pins that expire.
      const stale = (await store.pinBlobs([sha('3')], -1))!;
      assert.ok(await store.claimBlobForDelete(sha('3'), 60_000), 'an expired pin holds nothing');
      assert.ok((await store.dropExpiredBlobPins()) >= stale.length);
    });

    it('replaces a scope\'s documents at once, noting only documents that changed', async () => {
      const { sql, store, repo } = await fresh();
      const log = new ChangeLog(sql);
      const doc = (key: string, etag: string, body = [1, 2, 3]) => ({ key, contentType: 'text/plain', body: new Uint8Array(body), gzip: null, etag });
      await store.markDirty(repo.id, 'simple');
      const gen = await store.dirtyGeneration(repo.id, 'simple');
      await store.markDirty(repo.id, 'simple');
      const head = await log.head();
      await store.replaceScope(repo.id, 'simple', [doc('simple/a/', 'e1'), doc('simple/b/', 'e2', [0, 255])], gen);
      assert.equal(await store.isDirty(repo.id, 'simple'), true, 'a change during the build keeps the scope dirty');
      assert.deepEqual(await store.listDirty(), [{ repoId: repo.id, scope: 'simple' }]);
      const b = (await store.getIndex(repo.id, 'simple/b/'))!;
      assert.deepEqual([Buffer.from(b.body).toString('hex'), b.etag, b.scope, b.gzip], ['00ff', 'e2', 'simple', null]);
      assert.deepEqual((await log.since(head, 10)).map((c) => c.subject).sort(), ['simple/a/', 'simple/b/']);
      const mid = await log.head();
      await store.replaceScope(repo.id, 'simple', [doc('simple/a/', 'e1'), doc('simple/c/', 'e3')], await store.dirtyGeneration(repo.id, 'simple'));
      assert.deepEqual((await log.since(mid, 10)).map((c) => [c.kind, c.subject]).sort(), [['index', 'simple/b/'], ['index', 'simple/c/']]);
      assert.equal(await store.isDirty(repo.id, 'simple'), false);
      assert.deepEqual((await store.listIndexKeys(repo.id, 'simple')).sort(), ['simple/a/', 'simple/c/']);
      assert.equal(await store.hasIndexScope(repo.id, 'simple'), true);
      assert.equal(await store.hasIndexScope(repo.id, 'nothing-here'), false);
      await store.replaceScope(repo.id, 'dists/x', [doc('dists/x/Release', 'r')]);
      assert.deepEqual(await store.listIndexScopes(repo.id, 'dists/'), ['dists/x']);
      assert.deepEqual([...(await store.indexVersions(repo.id, 'dists/x')).keys()], ['dists/x/Release']);
      assert.equal(await store.getIndex(repo.id, 'simple/b/'), undefined);
    });

    it('rolls a failed transaction back whole; nested ones join; a scratch one changes nothing', async () => {
      const { store, repo } = await fresh();
      await assert.rejects(store.transaction(async () => {
        await store.upsertPackage(repo.id, 'gone', 'gone');
        await store.transaction(async () => store.upsertPackage(repo.id, 'gone-too', 'gone-too'));
        throw new Error('boom');
      }), /boom/);
      assert.deepEqual(await store.listPackages(repo.id), []);
      const seen = await store.sql.transaction(async () => {
        await store.upsertPackage(repo.id, 'scratch', 'scratch');
        return (await store.listPackages(repo.id)).length;
      }, { rollback: true });
      assert.equal(seen, 1);
      assert.deepEqual(await store.listPackages(repo.id), []);
    });

    it('never shows another caller an unfinished transaction', async () => {
      const { store, repo } = await fresh();
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let inserted!: () => void;
      const didInsert = new Promise<void>((r) => { inserted = r; });
      const tx = store.transaction(async () => {
        await store.upsertPackage(repo.id, 'pending', 'pending');
        inserted();
        await gate;
      });
      await didInsert;
      const outside = store.getPackage(repo.id, 'pending');
      const early = await Promise.race([outside.then((p) => (p ? 'seen' : 'absent')), new Promise((r) => setTimeout(() => r('waiting'), 50))]);
      assert.notEqual(early, 'seen', 'a read outside the transaction does not see its uncommitted row');
      release();
      await tx;
      assert.ok(await store.getPackage(repo.id, 'pending'));
    });

    it('takes queries issued at once inside a transaction in turn, on its one connection', async () => {
      // node-postgres queues a second query on a busy client only with a deprecation warning
      // (an error from pg@9): made to throw here, it shows a second query sent while one runs.
      const { sql } = await fresh();
      const was = process.throwDeprecation;
      process.throwDeprecation = true;
      try {
        const rows = await sql.transaction(() => Promise.all(Array.from({ length: 8 }, (_, i) => sql.get('SELECT ? AS n', [String(i)]))));
        assert.deepEqual(rows.map((r) => String(r!.n)), ['0', '1', '2', '3', '4', '5', '6', '7']);
      } finally {
        process.throwDeprecation = was;
      }
    });

    it('refuses text with a NUL byte as the client\'s mistake, for lookups and writes alike', async () => {
      // PostgreSQL's text cannot hold one; SQLite's could, but a name or path never has one.
      const { store, repo } = await fresh();
      const refused = (e: unknown) => isWharfError(e) && e.status === 400 && /NUL/.test(e.message);
      await assert.rejects(store.getFileByPath(repo.id, 'pool/a\0b.deb'), refused);
      await assert.rejects(store.getPackage(repo.id, 'x\0'), refused);
      await assert.rejects(store.upsertPackage(repo.id, 'n\0', 'n\0'), refused);
      const p = await store.upsertPackage(repo.id, 'n', 'n');
      await assert.rejects(store.setPackageSummary(p, 'a\0summary'), refused);
      assert.equal((await store.getPackage(repo.id, 'n'))!.summary, '');
    });

    it('refuses metadata holding a NUL byte, which PostgreSQL\'s JSON functions cannot read back', async () => {
      const { store, repo } = await fresh();
      const refused = (e: unknown) => isWharfError(e) && e.status === 400 && /NUL/.test(e.message);
      const p = await store.upsertPackage(repo.id, 'n', 'n');
      await assert.rejects(store.upsertVersion(p, '1.0', { description: 'a\0b' }), refused);
      await assert.rejects(store.updatePackageMeta(p, { k: ['x\0'] }), refused);
      // A backslash and "u0000" as text are no NUL.
      const v = await store.upsertVersion(p, '2.0', { description: 'see \\u0000', summary: 's' });
      assert.deepEqual((await store.listVersionsBrief(p)).map((r) => [r.id, r.meta]), [[v, { summary: 's' }]]);
      assert.equal(await store.versionDescription(v), 'see \\u0000');
    });

    it('serializes writers: a check-then-insert in two concurrent transactions never collides', async () => {
      const { store, repo } = await fresh();
      await store.insertBlob(sha('c'), 1);
      const attempt = () => store.transaction(async () => {
        if (await store.getFileByPath(repo.id, 'same')) return 'exists';
        await new Promise((r) => setImmediate(r));
        await store.insertFile({ repoId: repo.id, versionId: null, path: 'same', filename: 'same', sha256: sha('c'), size: 1, meta: {} });
        return 'inserted';
      });
      const results = await Promise.all([attempt(), attempt(), attempt()]);
      assert.deepEqual(results.sort(), ['exists', 'exists', 'inserted']);
    });

    it('orders the change feed by commit, and prunes old changes while keeping the newest', async () => {
      const { sql, store, repo } = await fresh();
      const log = new ChangeLog(sql);
      await store.insertBlob(sha('d'), 1);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.insertFile({ repoId: repo.id, versionId: null, path: `p${i}`, filename: 'x', sha256: sha('d'), size: 1, meta: {} })));
      const changes = await log.since(0, 1000);
      assert.deepEqual(changes.map((c) => c.seq), [...changes.map((c) => c.seq)].sort((a, b) => a - b));
      assert.equal(changes.filter((c) => c.kind === 'file').length, 20);
      assert.equal(await log.head(), changes.at(-1)!.seq);
      await log.note(repo.id, 'keys', '');
      assert.equal(await log.prune(-10, 5), changes.length + 1 - 5);
      assert.equal((await log.since(0, 1000)).length, 5);
      assert.equal(await log.prunedThrough(), (await log.head()) - 5);
    });

    it('prunes the change feed in small steps, so a million changes from an import do not stop the server for seconds', async () => {
      const { sql, store, repo } = await fresh();
      const log = new ChangeLog(sql);
      await store.insertBlob(sha('e'), 1);
      await store.transaction(async () => {
        for (let i = 0; i < 45; i++) await store.insertFile({ repoId: repo.id, versionId: null, path: `q${i}`, filename: 'x', sha256: sha('e'), size: 1, meta: {} });
      });
      const deletes: number[] = [];
      const run = sql.run.bind(sql);
      sql.run = async (text, params) => {
        const r = await run(text, params);
        if (/^DELETE FROM repo_changes/.test(text)) deletes.push(r.changes);
        return r;
      };
      const total = (await log.since(0, 1000)).length;
      assert.equal(await log.prune(-10, 0, 10), total);
      assert.equal((await log.since(0, 1000)).length, 0);
      assert.equal(await log.prunedThrough(), await log.head());
      assert.ok(deletes.length >= Math.ceil(total / 10) && deletes.every((n) => n <= 10), `deleted ${deletes.join(', ')} rows per statement`);
    });

    it('keeps users, grants, tokens, sessions and settings', async () => {
      const { store } = await fresh();
      const u = await store.createUser('alice', 'hash1', false);
      assert.deepEqual([u.name, u.isAdmin, u.passwordHash], ['alice', false, 'hash1']);
      await assert.rejects(store.createUser('alice', 'x', false));
      await store.createUser('admin', 'h', true);
      assert.deepEqual((await store.listUsers()).map((x) => x.name), ['admin', 'alice']);
      assert.equal(await store.countUsers(), 2);
      await store.setUserAdmin(u.id, true);
      assert.equal((await store.getUserByName('alice'))!.isAdmin, true);
      await store.setGrant(u.id, 'py*', 'write');
      await store.setGrant(u.id, 'py*', 'read');
      await store.setGrant(u.id, 'other', 'admin');
      assert.deepEqual((await store.listGrants(u.id)).map((g) => [g.repoPattern, g.permission]), [['other', 'admin'], ['py*', 'read']]);
      await store.setGrant(u.id, 'other', null);
      assert.equal((await store.listGrants(u.id)).length, 1);
      const t = await store.createToken({ id: 'tok1', userId: u.id, name: 'ci', secretHash: 'sh', repos: ['py'], permission: 'write', expiresAt: null });
      assert.deepEqual([t.repos, t.lastUsedAt], [['py'], null]);
      assert.deepEqual(await store.getTokenBySecretHash('sh'), t);
      await store.touchToken('tok1');
      assert.ok((await store.getTokenById('tok1'))!.lastUsedAt);
      assert.equal((await store.listTokens(u.id)).length, 1);
      assert.equal((await store.listTokens()).length, 1);
      await store.createSession({ secretHash: 's1', userId: u.id, csrf: 'c', createdAt: 1, lastSeenAt: 1, expiresAt: Date.now() + 1e6 });
      await store.createSession({ secretHash: 's2', userId: u.id, csrf: 'c', createdAt: 1, lastSeenAt: Date.now(), expiresAt: Date.now() + 1e6 });
      await store.touchSession('s2', Date.now() + 1);
      assert.equal(await store.countSessionsOfUser(u.id), 2);
      assert.equal(await store.deleteExpiredSessions(Date.now(), 100), 1, 'the idle one goes');
      await store.setUserPassword(u.id, 'hash2');
      assert.equal(await store.countSessionsOfUser(u.id), 0, 'a new password ends every session');
      assert.equal((await store.getUserById(u.id))!.passwordHash, 'hash2');
      await store.setSetting('k', 'v1');
      await store.setSetting('k', 'v2');
      assert.equal(await store.getSetting('k'), 'v2');
      assert.equal(await store.getSetting('missing'), undefined);
      await store.deleteToken('tok1');
      await store.deleteUser(u.id);
      assert.equal(await store.getUserByName('alice'), undefined);
    });
  });
}
