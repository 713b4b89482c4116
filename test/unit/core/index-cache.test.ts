import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexCache } from '../../../src/core/index-cache.ts';
import { KeyedMutex } from '../../../src/core/keyed-mutex.ts';
import type { IndexRow } from '../../../src/core/model.ts';

const row = (key: string, bytes: number): IndexRow => ({
  repoId: 1, key, scope: 's', contentType: 'text/plain', body: new Uint8Array(bytes), gzip: null, etag: '"e"', updatedAt: '',
});

describe('IndexCache', () => {
  it('evicts the least recently used entries past its byte budget', () => {
    const c = new IndexCache(3000);
    c.set(1, 'a', row('a', 1000));
    c.set(1, 'b', row('b', 1000));
    assert.ok(c.get(1, 'a'));
    c.set(1, 'c', row('c', 1000));
    assert.equal(c.get(1, 'b'), undefined, 'b was least recently used');
    assert.ok(c.get(1, 'a'));
    assert.ok(c.get(1, 'c'));
  });
  it('stays within its byte budget when filled with many large rows and many misses under long keys', () => {
    const budget = 4 * 1024 * 1024;
    const c = new IndexCache(budget);
    for (let i = 0; i < 200; i++) c.set(1, `page-${i}`, { ...row(`page-${i}`, 256 * 1024), gzip: new Uint8Array(64 * 1024) });
    let held = 0;
    for (let i = 0; i < 200; i++) { const r = c.get(1, `page-${i}`); if (r) held += r.body.length + r.gzip!.length; }
    assert.ok(held <= budget, `rows of ${held} bytes held in a budget of ${budget}`);
    assert.ok(held >= budget / 2, 'and it does use its budget');
    // Misses under keys a client chooses (a flood of random project names) cost memory too:
    // each key is a string of 2 bytes per character in the worst case.
    const longName = 'x'.repeat(400);
    for (let i = 0; i < 50_000; i++) c.set(1, `project:${longName}${i}#html`, null);
    assert.ok(c.size <= budget, `accounted ${c.size}`);
    assert.ok(c.count * 2 * 400 <= budget, `${c.count} entries with 400-character keys exceed the budget of ${budget} bytes`);
  });
  it('does not keep a row larger than its whole budget', () => {
    const c = new IndexCache(10_000);
    c.set(1, 'small', row('small', 100));
    c.set(1, 'huge', row('huge', 20_000));
    assert.equal(c.get(1, 'huge'), undefined);
    assert.ok(c.get(1, 'small'), 'and did not evict everything for it');
  });
  it('remembers misses and forgets a repository', () => {
    const c = new IndexCache();
    c.set(2, 'x', null);
    assert.equal(c.get(2, 'x'), null);
    c.dropRepo(2);
    assert.equal(c.get(2, 'x'), undefined);
  });
});

describe('KeyedMutex', () => {
  it('runs work for one key in order and other keys alongside', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([
      m.run('a', async () => { await sleep(20); log.push('a1'); }),
      m.run('a', async () => { log.push('a2'); }),
      m.run('b', async () => { log.push('b1'); }),
    ]);
    assert.deepEqual(log, ['b1', 'a1', 'a2']);
    await assert.rejects(m.run('a', async () => { throw new Error('boom'); }));
    assert.equal(await m.run('a', async () => 42), 42, 'a failure does not block the key');
  });
});
