// The Packages files kept up to date incrementally (chunks compressed once, reused by key,
// seeded from the published files after a start) must be byte for byte what a build from
// the database alone gives, after any sequence of adds, suite changes and deletes, and also
// when the state was seeded from older published files (changes never published before a
// restart).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { tinyDeb } from '../../../bench/apt-add.ts';
import type { RepoContext } from '../../../src/core/format-plugin.ts';
import type { Repository } from '../../../src/core/model.ts';
import { Wharf } from '../../../src/core/wharf.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';
import { formats } from '../../../src/formats/index.ts';
import { ChunkMemory } from '../../../src/formats/apt/chunked-compress.ts';
import { buildSuite, parseState, type StateFile } from '../../../src/formats/apt/suite-build.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';

const SUITES = ['stable', 'testing'];
const N = 300;

describe('apt suite build', () => {
  let dir: string;
  let wharf: Wharf;
  let repo: Repository;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-apt-suite-build-'));
    const store = new Store(await openDatabase(join(dir, 'wharf.db')));
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    wharf = await Wharf.open(store, blobs, formats, pino({ level: 'silent' }));
    repo = await wharf.createRepo({ name: 'inc', format: 'apt' });
  });
  after(async () => {
    await wharf.publisher.flush();
    await rm(dir, { recursive: true, force: true });
  });

  async function put(name: string, version: string, suite: string) {
    const staged = await wharf.blobs.stageBuffer(await tinyDeb(name, version));
    await wharf.services.ingest(repo, { uploader: 'alice', staged, filename: `${name}_${version}_amd64.deb`, fields: { suite: [suite], component: ['main'] } });
  }

  /** Every index key the published suites name, with its bytes (state documents and content). */
  async function published(): Promise<Map<string, Uint8Array>> {
    await wharf.publisher.flush();
    const out = new Map<string, Uint8Array>();
    for (const suite of SUITES) {
      const state = await wharf.getIndex(repo, `apt-state/${suite}`);
      if (!state) continue;
      out.set(`apt-state/${suite}`, state.body);
      for (const f of Object.values(parseState(state.body).generations[0].files)) out.set(f.content, (await wharf.getIndex(repo, f.content))!.body);
    }
    return out;
  }

  const filesOf = (docs: { key: string; body: string | Uint8Array }[]): Record<string, StateFile> =>
    parseState(Buffer.from(docs.find((d) => d.key.startsWith('apt-state/'))!.body)).generations[0].files;

  /**
   * A build in a context of its own: fresh state (as after a start), the store's writes
   * dropped, and the published index documents replaced by `docs` (undefined: none, so no
   * seed and every chunk compressed from the database's stanzas).
   */
  function isolated(docs: Map<string, Uint8Array> | undefined, counters: { reads: number }): RepoContext {
    const ctx = wharf.contextFor(repo);
    const store = Object.create(ctx.store) as typeof ctx.store;
    store.replaceScope = async () => {};
    store.getFilesByPaths = async (id, paths) => ((counters.reads += paths.length), ctx.store.getFilesByPaths(id, paths));
    const holders = new Map<string, object>();
    return {
      ...ctx,
      store,
      state: { get: async (k, create) => (holders.get(k) ?? (holders.set(k, await create()), holders.get(k))) as never, memo: ctx.state.memo },
      services: {
        ...ctx.services,
        getIndex: async (r, key) => {
          const row = await ctx.services.getIndex(r, key);
          if (!docs) return key.startsWith('apt-state/') ? row : undefined;
          const body = docs.get(key);
          return body && { ...(row ?? { repoId: r.id, key, scope: '', contentType: 'application/octet-stream', gzip: null, etag: '""', updatedAt: '' }), body };
        },
      },
    };
  }

  async function assertSameAsFullRebuild(step: string, old?: Map<string, Uint8Array>) {
    const now = await published();
    for (const suite of SUITES) {
      const stateBody = now.get(`apt-state/${suite}`);
      if (!stateBody) continue;
      const current = parseState(stateBody).generations[0].files;
      const full = { reads: 0 };
      const seeded = { reads: 0 };
      const fromScratch = filesOf(await buildSuite(isolated(undefined, full), suite));
      const restarted = filesOf(await buildSuite(isolated(now, seeded), suite));
      assert.deepEqual(fromScratch, current, `${step}: ${suite} differs from a full rebuild`);
      assert.deepEqual(restarted, current, `${step}: ${suite} differs when built after a start`);
      assert.equal(seeded.reads, 0, `${step}: ${suite}: stanzas read after a start with the files current`);
      if (old?.has(`apt-state/${suite}`)) {
        const stale = filesOf(await buildSuite(isolated(old, { reads: 0 }), suite));
        assert.deepEqual(stale, current, `${step}: ${suite} differs when built after a start from older files`);
      }
      // The plain Packages is the .gz inflated.
      const gz = Object.entries(current).find(([rel]) => rel.endsWith('Packages.gz'))!;
      const plain = gunzipSync(now.get(gz[1].content)!);
      const listed = current[gz[0].replace(/\.gz$/, '')];
      assert.equal(plain.length, listed.size);
      assert.ok(full.reads > 0 || listed.size === 0, `${step}: ${suite}: no stanza read from scratch`);
    }
  }

  it('after adds, suite changes and deletes', async () => {
    // Several chunks (about 64 stanzas each).
    for (let i = 0; i < N; i++) await put(`p${i}`, '1.0-1', SUITES[i % 5 === 0 ? 1 : 0]);
    await assertSameAsFullRebuild('300 adds');
    const first = await published();

    for (let i = 0; i < N; i += 7) await put(`p${i}`, '1.1-1', 'stable');
    await assertSameAsFullRebuild('new versions', first);

    // The same .deb added to the other suite.
    for (let i = 1; i < N; i += 11) await put(`p${i}`, '1.0-1', 'testing');
    await assertSameAsFullRebuild('suite changes', first);

    for (let i = 0; i < N; i += 3) await wharf.services.deletePackage(repo, `p${i}`);
    await assertSameAsFullRebuild('deletes', first);
    for (let i = 1; i < N; i += 3) await wharf.services.deletePackage(repo, `p${i}`);
    for (let i = 2; i < N; i += 3) await wharf.services.deletePackage(repo, `p${i}`);
    await assertSameAsFullRebuild('empty', first);
    await put('again', '1.0-1', 'stable');
    await assertSameAsFullRebuild('one again', first);
  });
});
