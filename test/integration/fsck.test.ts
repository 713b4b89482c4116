// `wharf fsck` on a data directory with the server stopped: a clean store of all four
// formats passes; a deleted blob, a truncated blob, a blob with other bytes, a tampered
// index document, a dirty scope, a temp file and an old orphan are each reported; --repair
// fixes what it can and names the files it cannot.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../../src/db/database.ts';
import type { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { buildDeb, control } from '../helpers/apt.ts';
import { run } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { MAIN, NODE } from '../helpers/serve-process.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { databaseEnv, databaseFor, onPostgres } from '../helpers/test-database.ts';
import { tinyPackage } from './arch-helpers.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Problem { kind: string; repo?: string; path?: string; scope?: string; keys?: string[]; repaired: boolean; message: string }
interface Report { clean: boolean; problems: Problem[]; youngOrphans: number; checked: { files: number; scopes: number } }

describe('wharf fsck', () => {
  let s: TestServer;
  let data: string;
  let blobs: FsBlobStore;
  let work: string;
  const files: Record<string, Buffer> = {};

  const fsck = async (...args: string[]) => {
    const r = await run(NODE, [MAIN, 'fsck', '--data', data, ...args], { env: { ...process.env, ...(await databaseEnv(data)) } });
    return { ...r, report: args.includes('--json') ? (JSON.parse(r.stdout) as Report) : null };
  };
  const upload = async (repo: string, filename: string, body: Buffer) => {
    const res = await fetch(`${s.url}/-/api/v1/repositories/${repo}/upload?filename=${encodeURIComponent(filename)}`, {
      method: 'POST', headers: { authorization: s.adminAuth, 'content-type': 'application/octet-stream' }, body,
    });
    assert.equal(res.status, 201, await res.text());
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-fsck-work-'));
    s = await startServer();
    data = s.data;
    blobs = s.wharf.blobs as FsBlobStore;
    for (const [name, format] of [['files', 'files'], ['deb', 'apt'], ['arch', 'arch']]) await s.wharf.createRepo({ name, format });
    for (const n of ['a', 'b', 'c', 'd']) {
      files[n] = randomBytes(4096);
      assert.equal((await fetch(`${s.url}/files/dir/${n}.bin`, { method: 'PUT', headers: { authorization: s.adminAuth }, body: files[n] })).status, 201);
    }
    await upload('pypi', wheelFilename({ name: 'tool', version: '1.0' }), buildWheel({ name: 'tool', version: '1.0' }));
    await upload('deb', 'hello_1.0_amd64.deb', await readFile(await buildDeb(work, 'hello', control('hello', '1.0'))));
    await upload('arch', 'foo-1.0-1-x86_64.pkg.tar.zst', await readFile(await tinyPackage(work, { name: 'foo', version: '1.0-1' })));
    await s.wharf.publisher.flush();
    // Offline: the server is stopped (fsck refuses while it holds the lock).
    await s.app.close();
  });
  after(async () => {
    await rm(data, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('passes a clean data directory of all four formats', async () => {
    const r = await fsck();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^checked 10 files .* in \d+ scopes of 4 repositories$/m);
    assert.match(r.stdout, /^clean$/m);
    const j = await fsck('--json');
    assert.equal(j.report!.clean, true);
    assert.ok(j.report!.checked.scopes >= 6, JSON.stringify(j.report!.checked));
  });

  it('reports each kind of damage, and --repair fixes all but the lost bytes', async () => {
    const path = (n: string) => blobs.pathOf(sha(files[n]));
    await unlink(path('a'));
    await truncate(path('b'), 100);
    await writeFile(path('c'), randomBytes(4096));
    await writeFile(join(data, 'blobs/tmp/123-interrupted'), 'partial upload');
    const orphan = randomBytes(300);
    await mkdir(dirname(blobs.pathOf(sha(orphan))), { recursive: true });
    await writeFile(blobs.pathOf(sha(orphan)), orphan);
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(blobs.pathOf(sha(orphan)), old, old);
    const young = randomBytes(200);
    await mkdir(dirname(blobs.pathOf(sha(young))), { recursive: true });
    await writeFile(blobs.pathOf(sha(young)), young);
    // Behind the server's back, through the same door on either engine.
    const db = await openDatabase((await databaseFor(data)) ?? join(data, 'wharf.db'));
    const tampered = await db.run("UPDATE indexes SET body = ? WHERE key LIKE '%tool%' AND scope = 'project:tool' AND content_type LIKE 'text/html%'",
      [Buffer.from('<html>nothing here</html>')]);
    assert.equal(tampered.changes, 1);
    // The signed text itself, not its signature or date.
    const inRelease = await db.get("SELECT body FROM indexes WHERE key = 'dists/stable/InRelease'");
    const signed = Buffer.from(inRelease!.body as Uint8Array).toString();
    assert.match(signed, /Components: main/);
    const release = await db.run("UPDATE indexes SET body = ? WHERE key = 'dists/stable/InRelease'", [Buffer.from(signed.replace('Components: main', 'Components: main evil'))]);
    assert.equal(release.changes, 1);
    // Marks are generation-counted and kept once published: a new change bumps the generation.
    // The pages' read model: totals and the search index, edited behind the triggers' back.
    await db.exec("UPDATE repo_stats SET bytes = bytes + 1 WHERE repo_id = (SELECT id FROM repositories WHERE name = 'arch')");
    // PostgreSQL's search words are generated columns of the packages: nothing to tamper with.
    if (db.dialect === 'sqlite') {
      await db.exec("DROP TRIGGER package_search_change; UPDATE packages SET summary = 'not indexed' WHERE name = 'tool'");
      await db.exec(`CREATE TRIGGER package_search_change AFTER UPDATE OF display_name, summary ON packages BEGIN
        INSERT INTO package_search (package_search, rowid, display_name, summary) VALUES ('delete', old.id, old.display_name, old.summary);
        INSERT INTO package_search (rowid, display_name, summary) VALUES (new.id, new.display_name, new.summary);
      END`);
    }
    await db.run("INSERT INTO dirty_scopes (repo_id, scope) SELECT id, 'dir:' FROM repositories WHERE name = 'files' ON CONFLICT (repo_id, scope) DO UPDATE SET gen = (CASE WHEN dirty_scopes.gen > dirty_scopes.published_gen THEN dirty_scopes.gen ELSE dirty_scopes.published_gen END) + 1");
    await db.close();

    const before = await fsck('--json');
    assert.equal(before.code, 1);
    const kinds = (r: Report) => r.problems.map((p) => `${p.kind} ${p.repo ?? ''}/${p.path ?? p.scope ?? ''}`).sort();
    assert.deepEqual(kinds(before.report!), [
      'blob-missing files/dir/a.bin',
      'blob-sha256 files/dir/c.bin',
      'blob-size files/dir/b.bin',
      'catalog-totals arch/',
      'index-differs deb/suite:stable',
      'index-differs pypi/project:tool',
      'orphan-blob /',
      'scope-dirty files/dir:',
      ...(onPostgres ? [] : ['search-index /']),
      'temp-file /123-interrupted',
    ]);
    assert.equal(before.report!.youngOrphans, 1);
    const text = await fsck();
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^problem: files\/dir\/a\.bin: its blob is missing/m);
    assert.match(text.stdout, /run `wharf fsck --repair`/);

    const repaired = await fsck('--repair');
    assert.equal(repaired.code, 1, 'lost bytes are left');
    assert.match(repaired.stdout, /^repaired: pypi: published index differs/m);
    assert.match(repaired.stdout, /^NOT FIXED: files\/dir\/b\.bin: its blob has 100 bytes, not 4096/m);
    assert.match(repaired.stdout, /^3 problems left$/m);
    // The repair is in the audit trail, by `cli`: a command on the data directory, nobody logged in.
    const trail = await openDatabase((await databaseFor(data)) ?? join(data, 'wharf.db'));
    try {
      const entry = await trail.get("SELECT actor, address, detail FROM audit_log WHERE action = 'fsck-repair'");
      assert.equal(entry?.actor, 'cli');
      assert.equal(entry?.address, null);
      assert.ok((JSON.parse(String(entry?.detail)) as { repaired: Record<string, number> }).repaired['index-differs'] >= 1, String(entry?.detail));
    } finally {
      await trail.close();
    }

    const afterRepair = await fsck('--json');
    assert.deepEqual(kinds(afterRepair.report!), ['blob-missing files/dir/a.bin', 'blob-sha256 files/dir/c.bin', 'blob-size files/dir/b.bin']);
    assert.equal(afterRepair.report!.youngOrphans, 1, 'a young orphan is left for gc');
  });

  it('refuses while a server holds the data directory', async () => {
    const again = await startServer({ data });
    try {
      const r = await fsck();
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^wharf: the data directory .* is in use by pid \d+ /);
    } finally {
      await again.app.close();
    }
  });
});
