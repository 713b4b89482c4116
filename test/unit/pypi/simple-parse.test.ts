// Reading upstream simple pages: a page that is not one (a login or error page answered with
// 200, another content type) is refused, so the proxy serves its last good copy instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageKind, parseProjectHtml, parseProjectJson, parseRoot } from '../../../src/formats/pypi/simple-parse.ts';

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

test('upload times: PEP 700 upload-time in JSON, data-upload-time in HTML, normalized to UTC with Z', () => {
  const html = parseProjectHtml(`<html><body>
    <a href="demo-1.0.tar.gz" data-upload-time="2024-01-01T00:00:00.123456Z">demo-1.0.tar.gz</a>
    <a href="demo-1.1.tar.gz" data-upload-time="2024-01-01T02:00:00+02:00">demo-1.1.tar.gz</a>
    <a href="demo-1.2.tar.gz" data-upload-time="soon">demo-1.2.tar.gz</a>
    <a href="demo-1.3.tar.gz">demo-1.3.tar.gz</a></body></html>`, URL_, 'demo');
  assert.deepEqual(html.files.map((f) => f.uploadTime), ['2024-01-01T00:00:00.123456Z', '2024-01-01T00:00:00.000Z', null, null]);
  const json = parseProjectJson(JSON.stringify({
    meta: { 'api-version': '1.1' }, name: 'demo',
    files: [{ filename: 'demo-1.0.tar.gz', url: 'demo-1.0.tar.gz', hashes: {}, 'upload-time': '2024-02-03T04:05:06Z' }, { filename: 'demo-1.1.tar.gz', url: 'demo-1.1.tar.gz', hashes: {}, 'upload-time': 12 }],
  }), URL_);
  assert.deepEqual(json.files.map((f) => f.uploadTime), ['2024-02-03T04:05:06Z', null]);
});

test('project status (PEP 792) from an upstream page, HTML or JSON; active when unsaid or unknown', () => {
  const page = (head: string) => `<html><head><meta name="pypi:repository-version" content="1.4">${head}</head><body></body></html>`;
  assert.deepEqual(parseProjectHtml(page('<meta name="pypi:project-status" content="quarantined"><meta name="pypi:project-status-reason" content="malware &amp; worse">'), URL_, 'demo').status, { status: 'quarantined', reason: 'malware & worse' });
  assert.deepEqual(parseProjectHtml(page('<meta content="archived" name="PyPI:Project-Status">'), URL_, 'demo').status, { status: 'archived', reason: null });
  assert.deepEqual(parseProjectHtml(page(''), URL_, 'demo').status, { status: 'active', reason: null });
  assert.deepEqual(parseProjectHtml(page('<meta name="pypi:project-status" content="exploded">'), URL_, 'demo').status, { status: 'active', reason: null });
  // A meta tag in the body is not the page's status.
  assert.deepEqual(parseProjectHtml('<html><head></head><body><meta name="pypi:project-status" content="quarantined"><a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a></body></html>', URL_, 'demo').status, { status: 'active', reason: null });
  const json = (ps: unknown) => parseProjectJson(JSON.stringify({ meta: { 'api-version': '1.4' }, name: 'demo', files: [], 'project-status': ps }), URL_).status;
  assert.deepEqual(json({ status: 'deprecated', reason: 'use demo2' }), { status: 'deprecated', reason: 'use demo2' });
  assert.deepEqual(json({ status: 'archived' }), { status: 'archived', reason: null });
  assert.deepEqual(json(undefined), { status: 'active', reason: null });
  assert.deepEqual(json('quarantined'), { status: 'active', reason: null });
});
