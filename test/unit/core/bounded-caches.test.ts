// The memos of parsed upstream data are bounded in bytes, not only in entries: 2,000 parsed
// PyPI pages of large projects (or 200 whole Arch dbs) held hundreds of MB to GBs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedCache } from '../../../src/core/bounded-cache.ts';
import { ChangeFeed } from '../../../src/core/change-feed.ts';
import type { RepoContext } from '../../../src/core/format-plugin.ts';
import { RepoStateRegistry } from '../../../src/core/repo-state.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';
import { parseOnce, PARSED_PAGES_MAX_BYTES } from '../../../src/formats/pypi/proxy.ts';

describe('bounded caches', () => {
  it('BoundedCache drops the oldest entries past its byte budget and its entry count', () => {
    const c = new BoundedCache<string>({ maxEntries: 3, maxBytes: 100 });
    c.set('a', 'A', 40);
    c.set('b', 'B', 40);
    c.set('c', 'C', 40);
    assert.equal(c.get('a'), undefined);
    assert.deepEqual([c.get('b'), c.get('c'), c.bytes], ['B', 'C', 80]);
    c.set('d', 'D', 1);
    c.set('e', 'E', 1);
    assert.equal(c.size, 3);
    assert.equal(c.get('b'), undefined);
    c.set('huge', 'H', 101);
    assert.equal(c.get('huge'), undefined);
    c.set('c', 'C2', 10);
    assert.equal(c.get('c'), 'C2');
    assert.equal(c.bytes, 12);
  });

  it('the parsed PyPI pages stay within their byte budget however large the pages', async () => {
    // 1 MiB pages: far more of them than the budget holds, far fewer than 2,000.
    const body = Buffer.from(JSON.stringify({ files: 'x'.repeat(1024 * 1024) }));
    const n = Math.ceil(PARSED_PAGES_MAX_BYTES / body.length) * 2;
    const store = new Store(await openDatabase(':memory:'));
    const registry = new RepoStateRegistry(await ChangeFeed.open(store));
    const repo = await store.createRepo(
{ name: 'p', format: 'pypi', kind: 'proxy', publicRead: true, options: {} });
    const ctx = { repo, store, state: registry.forRepo(repo) } as unknown as RepoContext;
    let last: unknown;
    for (let i = 0; i < n; i++) last = parseOnce(ctx, { key: `simple/p${i}/`, fetchedAt: 1, body });
    const held = registry.stats().memos['pypi:parsed-pages'];
    assert.ok(held.bytes <= PARSED_PAGES_MAX_BYTES, `${held.bytes} bytes held`);
    assert.ok(held.entries < n);
    // The newest is still there: asking again returns the very object kept.
    assert.equal(parseOnce(ctx, { key: `simple/p${n - 1}/`, fetchedAt: 1, body }), last);
  });
});

describe('the memos together', () => {
  it('stay within the registry\'s one budget, however many memos the formats open', async () => {
    const store = new Store(await openDatabase(':memory:'));
    const budget = 1024 * 1024;
    const registry = new RepoStateRegistry(await ChangeFeed.open(store), { memoBytes: budget });
    const repo = await store.createRepo({ name: 'p', format: 'pypi', kind: 'proxy', publicRead: true, options: {} });
    const state = registry.forRepo(repo);
    // Each memo alone allows the whole budget; four of them filled would hold four times it.
    const memos = ['a', 'b', 'c', 'd'].map((name) => state.memo<string>(name, { maxEntries: 1000, maxBytes: budget }));
    for (let i = 0; i < 200; i++) for (const m of memos) m.set(`k${i}`, 'v', 16 * 1024);
    const total = Object.values(registry.stats().memos).reduce((n, m) => n + m.bytes, 0);
    assert.ok(total <= budget, `the memos hold ${total} bytes together, over the budget of ${budget}`);
    // The newest entry of each memo is still there.
    for (const m of memos) assert.equal(m.get('k199'), 'v');
  });
});
