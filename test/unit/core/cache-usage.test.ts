import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CachedFileUse, CacheUseStore } from '../../../src/db/cache-use-store.ts';
import type { Sql } from '../../../src/db/sql.ts';
import type { FormatPlugin } from '../../../src/core/format-plugin.ts';
import type { FileRow, Repository } from '../../../src/core/model.ts';
import { CacheUsage } from '../../../src/core/proxy/cache-usage.ts';
import { aptFormat } from '../../../src/formats/apt/plugin.ts';

const repo = (options: Record<string, unknown>): Repository =>
  ({ id: 7, name: 'px', format: 'apt', kind: 'proxy', publicRead: true, options: { upstream: 'http://u.test/', ...options }, createdAt: '' }) as Repository;

function harness(files: CachedFileUse[]) {
  const recorded: { fileId: number; at: string }[] = [];
  const deleted: string[] = [];
  const uses = {
    recordUses: async (u: { fileId: number; at: string }[]) => void recorded.push(...u),
    listUses: async () => files.filter((f) => !deleted.includes(f.path)),
  } as unknown as CacheUseStore;
  const sql = { tryLock: async (_n: string, fn: (s: AbortSignal) => Promise<unknown>) => ({ ran: true, value: await fn(new AbortController().signal) }) } as unknown as Sql;
  const usage = new CacheUsage({
    sql, uses, log: { warn() {}, info() {} },
    pluginFor: () => aptFormat as FormatPlugin,
    deleteFile: async (_r, p) => void deleted.push(p),
  });
  return { usage, recorded, deleted };
}

const at = (day: number) => new Date(Date.UTC(2026, 0, day)).toISOString();
const use = (id: number, path: string, size: number, day: number, mirrored = false): CachedFileUse => ({ id, path, size, lastUsed: at(day), mirrored });

describe('CacheUsage', () => {
  it('evicts least recently used content, never index documents or mirrored files', async () => {
    const { usage, deleted } = harness([
      use(1, 'dists/stable/main/binary-amd64/by-hash/SHA256/aa', 5000, 1),
      use(2, 'pool/main/a/a_1_amd64.deb', 100, 2, true),
      use(3, 'pool/main/b/b_1_amd64.deb', 100, 3),
      use(4, 'pool/main/c/c_1_amd64.deb', 100, 4),
      use(5, 'pool/main/d/d_1_amd64.deb', 100, 5),
    ]);
    const run = await usage.evict(repo({ maxCacheBytes: 150 }));
    assert.deepEqual(deleted, ['pool/main/b/b_1_amd64.deb', 'pool/main/c/c_1_amd64.deb']);
    assert.deepEqual(run, { evicted: 2, bytes: 200, keptBytes: 100 });
    assert.deepEqual(usage.countersOf(7), { hits: 0, misses: 0, evictions: 2, evictedBytes: 200 });
  });

  it('a cache at its limit lists its files once per spacing, not once per fill', async () => {
    const files = [use(3, 'pool/main/b/b_1_amd64.deb', 100, 3), use(4, 'pool/main/c/c_1_amd64.deb', 100, 4)];
    let walks = 0;
    const uses = { recordUses: async () => {}, listUses: async () => (walks++, files) } as unknown as CacheUseStore;
    // Over the limit every time (an eviction that deletes nothing here): each fill would evict.
    const sql = {
      get: async () => ({ bytes: 1_000_000 }),
      tryLock: async (_n: string, fn: (s: AbortSignal) => Promise<unknown>) => ({ ran: true, value: await fn(new AbortController().signal) }),
    } as unknown as Sql;
    const usage = new CacheUsage({ sql, uses, log: { warn() {}, info() {} }, pluginFor: () => aptFormat as FormatPlugin, deleteFile: async () => {} });
    const px = repo({ maxCacheBytes: 150 });
    usage.filled(px);
    await usage.settled();
    assert.equal(walks, 1);
    for (let i = 0; i < 10; i++) {
      usage.filled(px);
      await new Promise((r) => setTimeout(r, 10));
    }
    await usage.settled();
    assert.equal(walks, 2, 'ten fills within the spacing fold into one more run');
  });

  it('does nothing for a proxy without limits', async () => {
    const { usage, deleted } = harness([use(3, 'pool/x.deb', 100, 3)]);
    assert.equal(await usage.evict(repo({})), null);
    assert.deepEqual(deleted, []);
  });

  it('writes a use at most once per recordEveryMs, and counts hits of upstream files only', async () => {
    const { usage, recorded } = harness([]);
    const file = { id: 3, repoId: 7, meta: { upstreamUrl: 'http://u.test/x' } } as unknown as FileRow;
    const hosted = { id: 4, repoId: 7, meta: {} } as unknown as FileRow;
    const t0 = Date.UTC(2026, 0, 1);
    usage.served(file, t0);
    usage.served(file, t0 + 60_000);
    usage.served(hosted, t0);
    await usage.flush();
    usage.served(file, t0 + 30 * 60_000);
    await usage.flush();
    usage.served(file, t0 + 61 * 60_000);
    await usage.flush();
    assert.deepEqual(recorded, [{ fileId: 3, at: new Date(t0).toISOString() }, { fileId: 3, at: new Date(t0 + 61 * 60_000).toISOString() }]);
    assert.equal(usage.countersOf(7).hits, 4);
  });
});
