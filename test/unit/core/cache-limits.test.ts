import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseByteSize, parseDuration, selectEvictions } from '../../../src/core/proxy/cache-limits.ts';
import { normalizeProxyOptions } from '../../../src/core/proxy/options.ts';

const DAY = 86_400_000;
const row = (id: number, size: number, lastUsed: number) => ({ id, size, lastUsed });

describe('selectEvictions', () => {
  const now = 100 * DAY;
  const rows = [row(1, 100, now - 5 * DAY), row(2, 100, now - 1 * DAY), row(3, 100, now - 3 * DAY), row(4, 100, now - 2 * DAY)];

  it('evicts nothing within the limits', () => {
    const c = selectEvictions(rows, { maxBytes: 400, unusedForMs: 10 * DAY, now });
    assert.deepEqual(c.evict, []);
    assert.equal(c.totalBytes, 400);
    assert.equal(c.keptBytes, 400);
  });

  it('evicts the least recently used until the rest fits', () => {
    const c = selectEvictions(rows, { maxBytes: 250, now });
    assert.deepEqual(c.evict.map((r) => r.id), [1, 3]);
    assert.equal(c.keptBytes, 200);
  });

  it('evicts what was unused too long, whatever the size', () => {
    const c = selectEvictions(rows, { unusedForMs: 2.5 * DAY, now });
    assert.deepEqual(c.evict.map((r) => r.id), [1, 3]);
  });

  it('applies both limits together', () => {
    const c = selectEvictions(rows, { maxBytes: 150, unusedForMs: 4 * DAY, now });
    assert.deepEqual(c.evict.map((r) => r.id), [1, 3, 4]);
    assert.equal(c.keptBytes, 100);
  });

  it('breaks ties by id and keeps a large recent file over small old ones only while it fits', () => {
    const t = now - DAY;
    const c = selectEvictions([row(9, 10, t), row(5, 10, t), row(7, 1000, now)], { maxBytes: 1005, now });
    assert.deepEqual(c.evict.map((r) => r.id), [5, 9]);
    // A file larger than the limit on its own goes too, last.
    assert.deepEqual(selectEvictions([row(1, 10, t), row(2, 2000, now)], { maxBytes: 1000, now }).evict.map((r) => r.id), [1, 2]);
  });

  it('does not reorder its input', () => {
    const input = [...rows];
    selectEvictions(input, { maxBytes: 0, now });
    assert.deepEqual(input, rows);
  });
});

describe('cache limit options', () => {
  it('parses sizes', () => {
    assert.equal(parseByteSize('20GiB', 'x'), 20 * 1024 ** 3);
    assert.equal(parseByteSize('20G', 'x'), 20 * 1024 ** 3);
    assert.equal(parseByteSize('500 MB', 'x'), 500e6);
    assert.equal(parseByteSize('1.5KiB', 'x'), 1536);
    assert.equal(parseByteSize(4096, 'x'), 4096);
    for (const bad of ['', 'lots', '-1GiB', '0', 0, -5, 1.5, '20 parsecs', true, null, {}]) {
      assert.throws(() => parseByteSize(bad, 'maxCacheBytes'), (e: { status?: number; message: string }) => e.status === 400 && /maxCacheBytes/.test(e.message), String(bad));
    }
  });

  it('parses durations', () => {
    assert.equal(parseDuration('30d', 'x'), 30 * 86_400);
    assert.equal(parseDuration('12h', 'x'), 43_200);
    assert.equal(parseDuration('90m', 'x'), 5400);
    assert.equal(parseDuration('2w', 'x'), 14 * 86_400);
    assert.equal(parseDuration('1d12h', 'x'), 36 * 3600);
    assert.equal(parseDuration(60, 'x'), 60);
    for (const bad of ['30', 'd', '30 days', '-1d', '0d', 0, -1, 'soon', false]) {
      assert.throws(() => parseDuration(bad, 'evictUnusedAfter'), (e: { status?: number; message: string }) => e.status === 400 && /evictUnusedAfter/.test(e.message), String(bad));
    }
  });

  it('normalizes them as proxy options (absent: no limit)', () => {
    const o = normalizeProxyOptions({ upstream: 'http://example.test/simple/', maxCacheBytes: '1MiB', evictUnusedAfter: '1d' });
    assert.equal(o.maxCacheBytes, 1024 * 1024);
    assert.equal(o.evictUnusedAfter, 86_400);
    const plain = normalizeProxyOptions({ upstream: 'http://example.test/simple/' });
    assert.equal('maxCacheBytes' in plain, false);
    assert.equal('evictUnusedAfter' in plain, false);
  });
});
