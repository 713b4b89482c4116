// Reading upstream simple pages: a page that is not one (a login or error page answered with
// 200, another content type) is refused, so the proxy serves its last good copy instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageKind, parseProjectHtml, parseRoot } from '../../../src/formats/pypi/simple-parse.ts';

const URL_ = 'https://up.example/simple/demo/';
const LOGIN = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><a href="/login">Sign in</a></body></html>';

test('a project page with distribution links, or the PEP 629 marker, is a simple page', () => {
  const p = parseProjectHtml('<html><body><a href="../../packages/demo-1.0.tar.gz#sha256=' + 'a'.repeat(64) + '">demo-1.0.tar.gz</a></body></html>', URL_, 'demo');
  assert.equal(p.files.length, 1);
  assert.equal(p.files[0].sha256, 'a'.repeat(64));
  const empty = parseProjectHtml('<html><head><meta name="pypi:repository-version" content="1.1"></head><body></body></html>', URL_, 'demo');
  assert.deepEqual(empty.files, []);
});

test('an HTML error or login page answered with 200 is not a project page', () => {
  assert.throws(() => parseProjectHtml(LOGIN, URL_, 'demo'), /not a simple page.*Sign in/);
  assert.throws(() => parseProjectHtml('<html><body><h1>Service Unavailable</h1></body></html>', URL_, 'demo'), /not a simple page/);
});

test('a root page needs the marker or links that all look like projects', () => {
  assert.deepEqual(parseRoot('<a href="demo/">demo</a><a href="/simple/b-c/">b-c</a>', false), ['demo', 'b-c']);
  assert.deepEqual(parseRoot('<meta name="pypi:repository-version" content="1.0">', false), []);
  assert.throws(() => parseRoot(LOGIN, false), /not a simple page/);
  assert.throws(() => parseRoot('<html><body>oops</body></html>', false), /not a simple page/);
});

test('only simple page content types are read', () => {
  assert.equal(pageKind('application/vnd.pypi.simple.v1+json', ''), 'json');
  assert.equal(pageKind('text/html; charset=utf-8', ''), 'html');
  assert.throws(() => pageKind('text/plain', 'x'), /not a simple page/);
  assert.throws(() => pageKind('application/x-json-junk', 'x'), /not a simple page/);
});
