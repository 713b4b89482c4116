import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeTime } from '../../../src/core/publisher.ts';

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
