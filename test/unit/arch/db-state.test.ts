// The dbs kept up to date incrementally (bucket members rebuilt from reused entry bytes plus
// the changed entries) must be byte for byte the dbs a fresh state builds from the database
// alone, after any sequence of adds, new versions, replaced bytes, held packages and deletes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import tar from 'tar-stream';
import type { Repository } from '../../../src/core/model.ts';
import { Wharf } from '../../../src/core/wharf.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';
import { formats } from '../../../src/formats/index.ts';
import { readRepoDb } from '../../../src/formats/arch/db-archive.ts';
import { RepoDbState } from '../../../src/formats/arch/db-state.ts';
import { collect } from '../../../src/lib/compression.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';
import { startServer, type TestServer } from '../../helpers/server.ts';
import { verifyDetached } from '../../../src/core/signing.ts';
import { makePkginfo } from './fixtures.ts';

/** A small package built in-process (tar + gzip): `.PKGINFO` and the given files. */
async function pkg(name: string, version: string, arch: string, files: string[], desc = `${name} package`): Promise<{ filename: string; bytes: Buffer }> {
  const pack = tar.pack();
  const out = collect(Readable.from(pack));
  const common = { mtime: new Date(1_700_000_000_000), uid: 0, gid: 0 };
  pack.entry({ ...common, name: '.PKGINFO', mode: 0o644 }, makePkginfo({ pkgname: name, pkgbase: name, pkgver: version, pkgdesc: desc, builddate: '1700000000', size: '64', arch, license: 'MIT' }));
  for (const f of files) pack.entry({ ...common, name: f, mode: 0o644 }, `${f}\n`);
  pack.finalize();
  return { filename: `${name}-${version}-${arch}.pkg.tar.gz`, bytes: gzipSync(await out) };
}

describe('arch db state', () => {
  let dir: string;
  let wharf: Wharf;
  let repo: Repository;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-arch-db-state-'));
    const store = new Store(await openDatabase(join(dir, 'wharf.db')));
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    wharf = await Wharf.open(store, blobs, formats, pino({ level: 'silent' }));
    repo = await wharf.createRepo({ name: 'inc', format: 'arch', options: { architectures: ['x86_64', 'aarch64'], allowOverwrite: true } });
  });
  after(async () => {
    await wharf.publisher.flush();
    await rm(dir, { recursive: true, force: true });
  });

  async function put(p: { filename: string; bytes: Buffer }, fields: Record<string, string[]> = {}) {
    const staged = await wharf.blobs.stageBuffer(p.bytes);
    await wharf.services.ingest(repo, { uploader: 'alice', staged, filename: p.filename, fields });
  }

  const ARCHES = ['x86_64', 'aarch64'];
  const KINDS = ['db', 'files'] as const;
  /** The published dbs now, by key. */
  async function publishedDbs(): Promise<Map<string, Buffer>> {
    await wharf.publisher.flush();
    const out = new Map<string, Buffer>();
    for (const arch of ARCHES) for (const kind of KINDS) out.set(`${arch}/${kind}`, Buffer.from((await wharf.getIndex(repo, `${arch}/${kind}`))!.body));
    return out;
  }

  /**
   * The published dbs equal, byte for byte, what a fresh state builds from the database
   * alone; and what a fresh state builds reusing members of `old` (dbs published earlier,
   * as after a restart that follows changes never published), or of the current ones.
   */
  async function assertSameAsFullRebuild(step: string, old?: Map<string, Buffer>) {
    const now = await publishedDbs();
    const ctx = wharf.contextFor(repo);
    const full = new RepoDbState({ reusePublished: false });
    const restarted = new RepoDbState();
    const restartedStale = new RepoDbState();
    const staleCtx: typeof ctx = { ...ctx, services: { ...ctx.services, getIndex: async (r, key) => ({ ...(await ctx.services.getIndex(r, key))!, body: (old ?? now).get(key)! }) } };
    // After a start with the dbs current, no file list is read again.
    let opened = 0;
    const countingCtx: typeof ctx = { ...ctx, blobs: Object.assign(Object.create(ctx.blobs) as typeof ctx.blobs, { open: (sha: string) => (opened++, ctx.blobs.open(sha)) }) };
    for (const arch of ARCHES) {
      for (const kind of KINDS) {
        const published = now.get(`${arch}/${kind}`)!;
        const [rebuilt] = await full.build(ctx, arch, kind);
        assert.ok(published.equals(Buffer.from(rebuilt.body as Uint8Array)), `${step}: ${arch}/${kind} differs from a full rebuild`);
        const [seeded] = await restarted.build(countingCtx, arch, kind);
        assert.ok(published.equals(Buffer.from(seeded.body as Uint8Array)), `${step}: ${arch}/${kind} differs when built after a start`);
        const [seededStale] = await restartedStale.build(staleCtx, arch, kind);
        assert.ok(published.equals(Buffer.from(seededStale.body as Uint8Array)), `${step}: ${arch}/${kind} differs when built after a start from older dbs`);
      }
    }
    assert.equal(opened, 0, `${step}: file lists read after a start`);
  }

  /** The `.files` db of x86_64, as pacman reads it: entry name → file list. */
  async function listed(): Promise<Map<string, string | undefined>> {
    await wharf.publisher.flush();
    const db = await readRepoDb((await wharf.getIndex(repo, 'x86_64/files'))!.body);
    return new Map([...db].map(([k, v]) => [k, v.files]));
  }

  it('after adds, new versions, replaced bytes, held packages and deletes', async () => {
    // Enough packages that buckets hold several entries (256 buckets, so about half share one).
    for (let i = 0; i < 300; i++) await put(await pkg(`p${i}`, '1.0-1', i % 7 === 0 ? 'any' : 'x86_64', [`usr/share/p${i}/a`]));
    // Entry names past the 100 bytes of a ustar name are written with pax headers.
    await put(await pkg(`long-${'x'.repeat(120)}`, '1.0-1', 'x86_64', [`usr/share/${'y'.repeat(120)}/z`]));
    await assertSameAsFullRebuild('300 adds');
    const first = await publishedDbs();

    for (let i = 0; i < 300; i += 5) await put(await pkg(`p${i}`, '1.1-1', i % 7 === 0 ? 'any' : 'x86_64', [`usr/share/p${i}/b`]));
    await assertSameAsFullRebuild('new versions', first);
    assert.equal((await listed()).get('p5-1.1-1'), '%FILES%\nusr/share/p5/b\n');

    // Same name and version, other bytes (allowOverwrite): the entry's desc and files change.
    for (let i = 1; i < 300; i += 9) await put(await pkg(`p${i}`, '1.0-1', i % 7 === 0 ? 'any' : 'x86_64', [`usr/share/p${i}/c`], `replaced ${i}`));
    await assertSameAsFullRebuild('replaced bytes', first);
    assert.match((await listed()).get('p19-1.0-1') ?? '', /usr\/share\/p19\/c/);

    // Held: stored but not listed; then added by the action.
    await put(await pkg('held', '1.0-1', 'x86_64', ['usr/share/held/x']), { add: ['false'] });
    await assertSameAsFullRebuild('held');
    assert.ok(!(await listed()).has('held-1.0-1'));
    await wharf.pluginFor(repo).actions!.add(wharf.contextFor(repo), { filename: 'held-1.0-1-x86_64.pkg.tar.gz' });
    await assertSameAsFullRebuild('held added');
    assert.ok((await listed()).has('held-1.0-1'));

    // Deletes: a newer version goes (the older one is listed again), whole packages go.
    for (let i = 0; i < 300; i += 10) await wharf.services.deleteVersion(repo, `p${i}`, '1.1-1');
    await assertSameAsFullRebuild('newer versions deleted');
    assert.ok((await listed()).has('p10-1.0-1'));
    for (let i = 3; i < 300; i += 4) await wharf.packages.deletePackage(repo, `p${i}`);
    await assertSameAsFullRebuild('packages deleted', first);
    const after = await listed();
    assert.ok(!after.has('p3-1.0-1') && after.has('p2-1.0-1'));
  });
});

describe('arch .files db published after the .db', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    await server.wharf.createRepo({ name: 'arch', format: 'arch' });
  });
  after(() => server.close());

  const upload = async (p: { filename: string; bytes: Buffer }) => {
    const res = await fetch(`${server.url}/arch/upload/${p.filename}`, { method: 'PUT', headers: { authorization: server.adminAuth }, body: p.bytes });
    assert.equal(res.status, 201, await res.text());
  };
  const filesScopeDirty = () => server.wharf.store.isDirty(server.wharf.repo('arch')!.id, 'files:x86_64');
  async function filesDb(): Promise<Map<string, string | undefined>> {
    const res = await fetch(`${server.url}/arch/x86_64/arch.files`);
    assert.equal(res.status, 200);
    const body = new Uint8Array(await res.arrayBuffer());
    const sig = new Uint8Array(await (await fetch(`${server.url}/arch/x86_64/arch.files.sig`)).arrayBuffer());
    const key = await (await fetch(`${server.url}/arch/key.asc`)).text();
    assert.equal((await verifyDetached(body, sig, [key])).valid, true, 'the .files db and its signature match');
    return new Map([...await readRepoDb(body)].map(([k, v]) => [k, v.files]));
  }

  it('is never served older than an acknowledged upload, and follows within a second unread', async () => {
    await upload(await pkg('first', '1.0-1', 'x86_64', ['usr/bin/first']));
    assert.ok((await filesDb()).has('first-1.0-1'));

    // The upload answered with the .db published and the .files still pending...
    await upload(await pkg('second', '1.0-1', 'x86_64', ['usr/bin/second']));
    assert.equal(await filesScopeDirty(), true, 'the .files publish is deferred');
    const db = await readRepoDb(new Uint8Array(await (await fetch(`${server.url}/arch/x86_64/arch.db`)).arrayBuffer()));
    assert.ok(db.has('second-1.0-1'));
    // ...but reading the .files db publishes it first.
    assert.equal((await filesDb()).get('second-1.0-1'), '%FILES%\nusr/bin/second\n');
    assert.equal(await filesScopeDirty(), false);

    // Unread, it is published shortly after (250 ms).
    await upload(await pkg('third', '1.0-1', 'x86_64', ['usr/bin/third']));
    const start = Date.now();
    while ((await filesScopeDirty()) && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await filesScopeDirty(), false, 'published without a read');
    assert.ok(Date.now() - start < 2000, `published within 2 s (took ${Date.now() - start} ms)`);
    assert.ok((await filesDb()).has('third-1.0-1'));
  });
});
