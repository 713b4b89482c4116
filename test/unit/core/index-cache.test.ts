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
