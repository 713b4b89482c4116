// The memos of parsed upstream data are bounded in bytes, not only in entries: 2,000 parsed
// PyPI pages of large projects (or 200 whole Arch dbs) held hundreds of MB to GBs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedCache } from '../../../src/core/bounded-cache.ts';
import { parsedPages, parseOnce, PARSED_PAGES_MAX_BYTES } from '../../../src/formats/pypi/proxy.ts';

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

  it('the parsed PyPI pages stay within their byte budget however large the pages', () => {
    // 1 MiB pages: far more of them than the budget holds, far fewer than 2,000.
    const body = Buffer.from(JSON.stringify({ files: 'x'.repeat(1024 * 1024) }));
    const n = Math.ceil(PARSED_PAGES_MAX_BYTES / body.length) * 2;
    for (let i = 0; i < n; i++) parseOnce(1, { key: `simple/p${i}/`, fetchedAt: 1, body });
    assert.ok(parsedPages.bytes <= PARSED_PAGES_MAX_BYTES, `${parsedPages.bytes} bytes held`);
    assert.ok(parsedPages.size < n);
    // The newest is still there.
    assert.equal(parsedPages.get(`1\0simple/p${n - 1}/\x001`) !== undefined, true);
  });
});
