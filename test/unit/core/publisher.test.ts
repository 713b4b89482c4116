import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FormatPlugin, RepoContext } from '../../../src/core/format-plugin.ts';
import { IndexCache } from '../../../src/core/index-cache.ts';
import { changeTime, Publisher } from '../../../src/core/publisher.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

describe('changeTime (Last-Modified of published documents)', () => {
  const t = Date.parse('2026-11-22T10:00:00.300Z');
  it('is now for a new document and unchanged for identical bytes', () => {
    assert.equal(changeTime(undefined, '"a"', t), '2026-11-22T10:00:00.300Z');
    assert.equal(changeTime({ etag: '"a"', updatedAt: '2026-11-22T09:00:00.000Z' }, '"a"', t), '2026-11-22T09:00:00.000Z');
  });
  it('moves to a later second when a change lands in the same second as the previous one', () => {
    assert.equal(changeTime({ etag: '"a"', updatedAt: '2026-11-22T10:00:00.100Z' }, '"b"', t), '2026-11-22T10:00:01.000Z');
    assert.equal(changeTime({ etag: '"a"', updatedAt: '2026-11-22T10:00:01.000Z' }, '"c"', t), '2026-11-22T10:00:02.000Z');
    assert.equal(changeTime({ etag: '"a"', updatedAt: '2026-11-22T09:59:59.900Z' }, '"b"', t), '2026-11-22T10:00:00.300Z');
  });
});

describe('deferred publishing', () => {
  it('flush() waits for a deferred build already under way', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-publisher-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const store = new Store(await openDatabase(path.join(dir, 'wharf.db')));
    const repo = await store.createRepo({ name: 'r', format: 'fake', kind: 'hosted', publicRead: true, options: {} });
    const publisher = new Publisher(store, new IndexCache());
    let builds = 0;
    let release = () => {};
    const plugin = {
      deferredScopes: ['slow'],
      buildScope: async () => {
        builds++;
        // The second build (the deferred one) waits until released.
        if (builds === 2) await new Promise<void>((r) => { release = r; });
        return [{ key: 'doc', contentType: 'text/plain', body: `build ${builds}` }];
      },
    } as unknown as FormatPlugin;
    const ctx = { repo } as RepoContext;
    await publisher.publish(ctx, plugin, ['slow']); // never published: built at once
    await store.transaction(() => store.markDirty(repo.id, 'slow'));
    await publisher.publish(ctx, plugin, ['slow']); // deferred
    while (builds < 2) await new Promise((r) => setTimeout(r, 20)); // its timer fired, the build runs
    let flushed = false;
    const flushing = publisher.flush().then(() => { flushed = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(flushed, false, 'flush() returned while the deferred build was still running');
    release();
    await flushing;
    assert.equal(Buffer.from((await store.getIndex(repo.id, 'doc'))!.body).toString(), 'build 2');
    assert.equal(await store.isDirty(repo.id, 'slow'), false);

  });
});
