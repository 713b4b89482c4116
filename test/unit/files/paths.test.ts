import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WharfError } from '../../../src/core/errors.ts';
import {
  baseName, checkSegment, checkStoredPath, dirScope, listingKey, parentDir, parseRequestPath, resolveUploadPath,
} from '../../../src/formats/files/paths.ts';

const refused = (fn: () => unknown, re?: RegExp) => assert.throws(fn, (e: unknown) => {
  assert.ok(e instanceof WharfError, String(e));
  assert.equal(e.status, 400);
  if (re) assert.match(e.message, re);
  return true;
});

describe('parseRequestPath', () => {
  it('decodes each segment and tells files from directories', () => {
    assert.deepEqual(parseRequestPath(''), { segments: [], directory: true });
    assert.deepEqual(parseRequestPath('a/b.tgz'), { segments: ['a', 'b.tgz'], directory: false });
    assert.deepEqual(parseRequestPath('a/b/'), { segments: ['a', 'b'], directory: true });
    assert.deepEqual(parseRequestPath('%C3%A9t%C3%A9/a%20b+c.tgz'), { segments: ['été', 'a b+c.tgz'], directory: false });
    assert.deepEqual(parseRequestPath('.hidden/x'), { segments: ['.hidden', 'x'], directory: false });
  });

  it('refuses traversal in every encoding', () => {
    for (const raw of ['..', '../x', 'a/../x', 'a/..', '.', './x', '%2e%2e/x', '%2E%2E/x', '.%2e/x', '%2e./x', 'a/%2e', '%2e%2e%2fx', 'a%2f..%2fb', 'a%2Fb', '..%5cx', 'a%5c..%5cb']) {
      refused(() => parseRequestPath(raw), undefined);
    }
  });

  it('refuses empty segments unless reads merge them', () => {
    refused(() => parseRequestPath('a//b'), /empty/);
    refused(() => parseRequestPath('/a'), /empty/);
    assert.deepEqual(parseRequestPath('a//b', { mergeSlashes: true }), { segments: ['a', 'b'], directory: false });
    assert.deepEqual(parseRequestPath('/a/', { mergeSlashes: true }), { segments: ['a'], directory: true });
    // Merging never lets `..` through.
    refused(() => parseRequestPath('a//../b', { mergeSlashes: true }));
  });

  it('refuses control characters, bad encodings and absurd lengths', () => {
    refused(() => parseRequestPath('a%00b'), /control/);
    refused(() => parseRequestPath('a%0Ab'), /control/);
    refused(() => parseRequestPath('a%7Fb'), /control/);
    refused(() => parseRequestPath('a%C2%85b'), /control/);
    refused(() => parseRequestPath('%zz'), /percent/);
    refused(() => parseRequestPath('%ED%A0%80'), /percent/);
    refused(() => parseRequestPath('x'.repeat(256)), /255/);
    assert.equal(parseRequestPath('x'.repeat(255)).segments[0].length, 255);
    // 128 two-byte characters are 256 bytes: the limit counts bytes.
    refused(() => parseRequestPath('%C3%A9'.repeat(128)), /255/);
    const deep = Array.from({ length: 5 }, () => 'y'.repeat(250)).join('/');
    refused(() => parseRequestPath(deep), /1024/);
    const ok = Array.from({ length: 4 }, () => 'y'.repeat(250)).join('/');
    assert.equal(parseRequestPath(ok).segments.length, 4);
  });
});

describe('resolveUploadPath', () => {
  it('places the file at the root, in a dir, or at a full path', () => {
    assert.equal(resolveUploadPath('a.tgz', {}), 'a.tgz');
    assert.equal(resolveUploadPath('a.tgz', { dir: ['rel/v1'] }), 'rel/v1/a.tgz');
    assert.equal(resolveUploadPath('a.tgz', { dir: ['/rel/v1/'] }), 'rel/v1/a.tgz');
    assert.equal(resolveUploadPath('a.tgz', { dir: [''] }), 'a.tgz');
    assert.equal(resolveUploadPath('a.tgz', { path: ['rel/b.tgz'] }), 'rel/b.tgz');
    assert.equal(resolveUploadPath('a.tgz', { path: ['rel/'] }), 'rel/a.tgz');
  });

  it('refuses bad names and ambiguous fields', () => {
    refused(() => resolveUploadPath('..', {}));
    refused(() => resolveUploadPath('a/b', {}), /%2F/);
    refused(() => resolveUploadPath('', {}), /empty/);
    refused(() => resolveUploadPath('a.tgz', { dir: ['../x'] }));
    refused(() => resolveUploadPath('a.tgz', { dir: ['a//b'] }), /empty/);
    refused(() => resolveUploadPath('a.tgz', { path: ['x/../a.tgz'] }));
    refused(() => resolveUploadPath('a.tgz', { path: ['x'], dir: ['y'] }), /either/);
    refused(() => resolveUploadPath('a.tgz', { dir: ['x', 'y'] }), /once/);
  });
});

describe('path helpers', () => {
  it('finds parents and base names of files and directories', () => {
    assert.equal(parentDir('a/b/c.tgz'), 'a/b/');
    assert.equal(parentDir('a/b/'), 'a/');
    assert.equal(parentDir('a/'), '');
    assert.equal(parentDir('c.tgz'), '');
    assert.equal(baseName('a/b/c.tgz'), 'c.tgz');
    assert.equal(baseName('a/b/'), 'b');
  });

  it('keys each directory apart', () => {
    assert.notEqual(listingKey('a/', 'html'), listingKey('a/', 'json'));
    assert.notEqual(listingKey('', 'html'), listingKey('a/', 'html'));
    assert.equal(dirScope(''), 'dir:');
    assert.equal(dirScope('a/b/'), 'dir:a/b/');
  });

  it('checks stored paths segment by segment', () => {
    assert.equal(checkStoredPath('a/b.tgz'), 'a/b.tgz');
    refused(() => checkStoredPath(''));
    refused(() => checkStoredPath('a/'));
    refused(() => checkSegment('a\tb'));
  });
});
