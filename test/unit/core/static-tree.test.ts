// The static tree writer (core/static-tree.ts): the tree holds exactly what Wharf answers for
// public hosted repositories, follows every change (deletes, a file where a directory was,
// visibility, deletion of the repository, another process's publishes), mends itself at start
// after a crash between a publish and the tree's write, and copies blobs it cannot link.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Wharf } from '../../../src/core/wharf.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';
import { formats } from '../../../src/formats/index.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';
import { buildWheel, wheelFilename } from '../../helpers/python-dists.ts';

const silent = pino({ level: 'silent' });

/** Every file below `root` but the tree's own records, relative, sorted. */
async function treeFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => `${e.parentPath.slice(root.length + 1)}/${e.name}`)
    .filter((p) => !p.startsWith('-/state/') && !p.startsWith('-/tmp/')).sort();
}

describe('the static tree writer', () => {
  let dir: string;
  let root: string;
  let store: Store;
  let blobs: FsBlobStore;
  let wharf: Wharf;

  const open = async (opts: { static?: boolean; blobs?: FsBlobStore } = {}) => {
    const w = await Wharf.open(new Store(await openDatabase(join(dir, 'wharf.db'))), opts.blobs ?? blobs, formats, silent);
    if (opts.static !== false) await w.enableStaticTree(root);
    return w;
  };
  const putFile = async (w: Wharf, repo: string, path: string, body: string) => {
    const staged = await w.blobs.stageBuffer(Buffer.from(body));
    await w.services.ingest(w.requireRepo(repo), { staged, filename: path.split('/').pop()!, fields: { path: [path] } });
  };
  const putWheel = async (w: Wharf, repo: string, name: string, version: string) => {
    const staged = await w.blobs.stageBuffer(buildWheel({ name, version }));
    await w.services.ingest(w.requireRepo(repo), { staged, filename: wheelFilename({ name, version }), fields: {} });
    await w.publisher.flush();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-static-tree-'));
    root = join(dir, 'static');
    blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    store = new Store(await openDatabase(join(dir, 'wharf.db')));
    wharf = await Wharf.open(store, blobs, formats, silent);
    await wharf.enableStaticTree(root);
    await wharf.createRepo({ name: 'fs', format: 'files' });
    await wharf.createRepo({ name: 'py', format: 'pypi' });
  });
  after(async () => {
    await wharf.publisher.flush();
    await wharf.settleStatic();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds each file at its path, a hard link to its blob, and the simple pages with their gzip copies', async () => {
    await putFile(wharf, 'fs', 'tools/v1/tool.txt', 'tool one\n');
    await putWheel(wharf, 'py', 'demo', '1.0');
    const wheel = wheelFilename({ name: 'demo', version: '1.0' });
    assert.deepEqual(await treeFiles(root), [
      '-/negotiated/py/simple/demo/index.html', '-/negotiated/py/simple/demo/index.html.gz',
      '-/negotiated/py/simple/demo/index.json', '-/negotiated/py/simple/demo/index.json.gz',
      '-/negotiated/py/simple/index.html', '-/negotiated/py/simple/index.json',
      'fs/tools/v1/tool.txt',
      `py/packages/demo/${wheel}`, `py/packages/demo/${wheel}.metadata`,
      'py/pypi/demo/json',
    ].sort());
    assert.equal(await readFile(join(root, 'fs/tools/v1/tool.txt'), 'utf8'), 'tool one\n');
    const file = await store.getFileByPath(wharf.requireRepo('fs').id, 'tools/v1/tool.txt');
    assert.equal((await stat(join(root, 'fs/tools/v1/tool.txt'))).ino, (await stat(blobs.localPath(file!.sha256))).ino, 'a hard link');
    // The bytes Wharf serves, and its Last-Modified as the file's time.
    const row = await wharf.getIndex(wharf.requireRepo('py'), 'simple/demo/#json');
    assert.deepEqual(await readFile(join(root, '-/negotiated/py/simple/demo/index.json')), Buffer.from(row!.body));
    assert.equal((await stat(join(root, '-/negotiated/py/simple/demo/index.json'))).mtime.getTime(), Date.parse(row!.updatedAt));
  });

  it('drops a deleted file and the directories it leaves empty', async () => {
    await putFile(wharf, 'fs', 'old/deep/gone.txt', 'x');
    assert.ok((await treeFiles(root)).includes('fs/old/deep/gone.txt'));
    await wharf.services.deleteFile(wharf.requireRepo('fs'), 'old/deep/gone.txt');
    // Written at once are what a publish adds; what went goes with the full sync a moment later.
    assert.ok((await treeFiles(root)).includes('fs/old/deep/gone.txt'));
    await wharf.settleStatic();
    assert.ok(!(await treeFiles(root)).includes('fs/old/deep/gone.txt'));
    await assert.rejects(stat(join(root, 'fs/old')), 'the emptied directories went too');
  });

  it('a file where a directory was, and a directory where a file was', async () => {
    await putFile(wharf, 'fs', 'swap', 'a file');
    await wharf.services.deleteFile(wharf.requireRepo('fs'), 'swap');
    await putFile(wharf, 'fs', 'swap/inner.txt', 'now a directory');
    await wharf.settleStatic();
    assert.equal(await readFile(join(root, 'fs/swap/inner.txt'), 'utf8'), 'now a directory');
    await wharf.services.deleteFile(wharf.requireRepo('fs'), 'swap/inner.txt');
    await putFile(wharf, 'fs', 'swap', 'a file again');
    await wharf.settleStatic();
    assert.equal(await readFile(join(root, 'fs/swap'), 'utf8'), 'a file again');
    // Both changes in one sync (as when the tree follows another process, or at start).
    const other = await open({ static: false });
    await other.services.deleteFile(other.requireRepo('fs'), 'swap');
    await putFile(other, 'fs', 'swap/inner.txt', 'a directory, in one sync');
    await wharf.syncStatic(wharf.requireRepo('fs'));
    assert.equal(await readFile(join(root, 'fs/swap/inner.txt'), 'utf8'), 'a directory, in one sync');
  });

  it('a repository made private leaves the tree, made public comes back, deleted leaves it', async () => {
    await wharf.updateRepo('fs', { public: false });
    assert.ok(!(await treeFiles(root)).some((p) => p.startsWith('fs/')));
    await wharf.updateRepo('fs', { public: true });
    assert.ok((await treeFiles(root)).includes('fs/tools/v1/tool.txt'));
    await wharf.createRepo({ name: 'gone', format: 'files' });
    await putFile(wharf, 'gone', 'a.txt', 'a');
    assert.ok((await treeFiles(root)).includes('gone/a.txt'));
    await wharf.deleteRepo('gone');
    assert.ok(!(await treeFiles(root)).some((p) => p.startsWith('gone/')));
  });

  it('follows another process\'s publishes through the change feed', async () => {
    const other = await open({ static: false });
    await putFile(other, 'fs', 'from-other.txt', 'written by another replica');
    await wharf.feed.catchUp();
    await wharf.settleStatic();
    assert.equal(await readFile(join(root, 'fs/from-other.txt'), 'utf8'), 'written by another replica');
    await other.services.deleteFile(other.requireRepo('fs'), 'from-other.txt');
    await wharf.feed.catchUp();
    await wharf.settleStatic();
    assert.ok(!(await treeFiles(root)).includes('fs/from-other.txt'));
  });

  it('at start, mends a tree a crash left behind its database', async () => {
    const expected = await treeFiles(root);
    // A publish whose process died before the tree's write: in the database, not in the tree.
    const crashed = await open({ static: false });
    await putFile(crashed, 'fs', 'after-crash.txt', 'published, never written to the tree');
    await putWheel(crashed, 'py', 'demo', '2.0');
    // And damage: a file gone, one truncated, a stray one, a repository that no longer exists.
    await rm(join(root, 'fs/tools/v1/tool.txt'));
    await writeFile(join(root, '-/negotiated/py/simple/index.html'), '');
    await writeFile(join(root, 'fs/stray.txt'), 'not in the database');
    await mkdir(join(root, 'nosuchrepo'), { recursive: true });
    await writeFile(join(root, 'nosuchrepo/x'), 'x');

    const restarted = await open();
    await restarted.settleStatic();
    const now = await treeFiles(root);
    const wheel2 = wheelFilename({ name: 'demo', version: '2.0' });
    assert.deepEqual(now, [...expected, 'fs/after-crash.txt', `py/packages/demo/${wheel2}`, `py/packages/demo/${wheel2}.metadata`].sort());
    assert.equal(await readFile(join(root, 'fs/tools/v1/tool.txt'), 'utf8'), 'tool one\n');
    const rootPage = await restarted.getIndex(restarted.requireRepo('py'), 'simple/#html');
    assert.deepEqual(await readFile(join(root, '-/negotiated/py/simple/index.html')), Buffer.from(rootPage!.body));
    const page = JSON.parse(await readFile(join(root, '-/negotiated/py/simple/demo/index.json'), 'utf8')) as { versions: string[] };
    assert.deepEqual(page.versions, ['1.0', '2.0']);
  });

  it('copies blobs it cannot hard-link (a blob store elsewhere, or in S3)', async () => {
    const noLinks = new FsBlobStore(join(dir, 'blobs'));
    await noLinks.init();
    noLinks.localPath = (() => undefined) as unknown as FsBlobStore['localPath'];
    const copyRoot = join(dir, 'static-copy');
    const w = await Wharf.open(new Store(await openDatabase(join(dir, 'wharf.db'))), noLinks, formats, silent);
    await w.enableStaticTree(copyRoot);
    const copied = join(copyRoot, 'fs/tools/v1/tool.txt');
    assert.equal(await readFile(copied, 'utf8'), 'tool one\n');
    const file = await store.getFileByPath(w.requireRepo('fs').id, 'tools/v1/tool.txt');
    assert.notEqual((await stat(copied)).ino, (await stat(blobs.localPath(file!.sha256))).ino, 'a copy');
  });
});
