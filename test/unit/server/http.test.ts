import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptsGzip, etagMatches } from '../../../src/server/http/conditional.ts';
import { contentTypeFor } from '../../../src/server/http/content-type.ts';
import { parseRange } from '../../../src/server/http/range.ts';

describe('parseRange', () => {
  const size = 1000;
  it('reads single byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-99', size), { kind: 'range', range: { start: 0, end: 99 } });
    assert.deepEqual(parseRange('bytes=900-', size), { kind: 'range', range: { start: 900, end: 999 } });
    assert.deepEqual(parseRange('bytes=-100', size), { kind: 'range', range: { start: 900, end: 999 } });
    assert.deepEqual(parseRange('bytes=990-5000', size), { kind: 'range', range: { start: 990, end: 999 } });
    assert.deepEqual(parseRange('bytes=-5000', size), { kind: 'range', range: { start: 0, end: 999 } });
  });
  it('serves the whole body for no, malformed or multiple ranges', () => {
    assert.deepEqual(parseRange(undefined, size), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=0-1,5-6', size), { kind: 'none' });
    assert.deepEqual(parseRange('items=0-1', size), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=5-1', size), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=-', size), { kind: 'none' });
  });
  it('reports unsatisfiable ranges', () => {
    assert.deepEqual(parseRange('bytes=1000-', size), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', size), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  });
});

describe('conditional requests', () => {
  it('matches strong and weak forms, lists and *', () => {
    assert.equal(etagMatches('"abc"', '"abc"'), true);
    assert.equal(etagMatches('W/"abc"', '"abc"'), true);
    assert.equal(etagMatches('"x", "abc"', '"abc"'), true);
    assert.equal(etagMatches('*', '"abc"'), true);
    assert.equal(etagMatches('"abcd"', '"abc"'), false);
    assert.equal(etagMatches(undefined, '"abc"'), false);
  });
  it('reads Accept-Encoding with q-values', () => {
    assert.equal(acceptsGzip('gzip, deflate, br'), true);
    assert.equal(acceptsGzip('br;q=1.0, gzip;q=0.5'), true);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip(undefined), false);
  });
});

describe('contentTypeFor', () => {
  it('names the types of package files', () => {
    assert.equal(contentTypeFor('x-1.0-py3-none-any.whl'), 'application/zip');
    assert.equal(contentTypeFor('x-1.0.tar.gz'), 'application/gzip');
    assert.equal(contentTypeFor('x_1.0_amd64.deb'), 'application/vnd.debian.binary-package');
    assert.equal(contentTypeFor('x-1.0-1-any.pkg.tar.zst'), 'application/zstd');
    assert.equal(contentTypeFor('x.whl.metadata'), 'text/plain; charset=utf-8');
    assert.equal(contentTypeFor('README'), 'application/octet-stream');
  });
});

describe('notModifiedSince', () => {
  it('compares whole seconds and yields to If-None-Match', async () => {
    const { notModifiedSince } = await import('../../../src/server/http/conditional.ts');
    const lm = '2026-11-22T10:00:00.700Z';
    assert.equal(notModifiedSince({ 'if-modified-since': 'Sun, 22 Nov 2026 10:00:00 GMT' }, lm), true);
    assert.equal(notModifiedSince({ 'if-modified-since': 'Sun, 22 Nov 2026 09:59:59 GMT' }, lm), false);
    assert.equal(notModifiedSince({ 'if-modified-since': 'Sun, 22 Nov 2026 10:00:00 GMT', 'if-none-match': '"x"' }, lm), false);
    assert.equal(notModifiedSince({ 'if-modified-since': 'garbage' }, lm), false);
  });
});
