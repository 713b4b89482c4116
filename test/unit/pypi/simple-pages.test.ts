import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { renderProjectHtml, renderRootHtml } from '../../../src/formats/pypi/simple-html.ts';
import { renderProjectJson, renderRootJson } from '../../../src/formats/pypi/simple-json.ts';
import type { SimpleFile, SimpleProjectPage } from '../../../src/formats/pypi/simple-types.ts';
import { toIsoUtc } from '../../../src/formats/pypi/simple-types.ts';

const sha = (c: string) => c.repeat(64);

const base = { size: 100, uploadTime: '2024-01-02T03:04:05.000Z', requiresPython: null, coreMetadataSha256: null, yanked: false, yankedReason: null };
// Deliberately out of order: pages list by PEP 440 version, then filename.
const files: SimpleFile[] = [
  { ...base, filename: 'demo_pkg-1.0.tar.gz', url: '../../files/demo_pkg-1.0.tar.gz', sha256: sha('a'), requiresPython: '>=3.8' },
  { ...base, filename: 'demo_pkg-1.0-py3-none-any.whl', url: '/f/demo_pkg-1.0-py3-none-any.whl?a=1&b=2', sha256: sha('b'), coreMetadataSha256: sha('c'), yanked: true },
  { ...base, filename: 'demo_pkg-0.9-py3-none-any.whl', url: 'https://h.example/f/demo_pkg-0.9-py3-none-any.whl', sha256: sha('d'), size: 7, uploadTime: '2023-12-31 23:59:59', requiresPython: '<4,>=3.6', yanked: true, yankedReason: `broken <b>"bad"</b> & 'worse'` },
  { ...base, filename: 'demo_pkg-1.0rc1-py3-none-any.whl', url: 'demo_pkg-1.0rc1-py3-none-any.whl', sha256: sha('e'), coreMetadataSha256: sha('f') },
];
const page: SimpleProjectPage = { name: 'demo-pkg', files, versions: ['1.0', '0.9', '1.0rc1', '1.0'] };

test('project page in HTML: attributes, escaping, yanked with and without a reason', () => {
  assert.equal(renderProjectHtml(page), `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.4">
    <title>Links for demo-pkg</title>
  </head>
  <body>
    <h1>Links for demo-pkg</h1>
    <a href="https://h.example/f/demo_pkg-0.9-py3-none-any.whl#sha256=${sha('d')}" data-requires-python="&lt;4,&gt;=3.6" data-yanked="broken &lt;b&gt;&quot;bad&quot;&lt;/b&gt; &amp; &#39;worse&#39;" data-upload-time="2023-12-31T23:59:59.000Z">demo_pkg-0.9-py3-none-any.whl</a><br />
    <a href="demo_pkg-1.0rc1-py3-none-any.whl#sha256=${sha('e')}" data-dist-info-metadata="sha256=${sha('f')}" data-core-metadata="sha256=${sha('f')}" data-upload-time="2024-01-02T03:04:05.000Z">demo_pkg-1.0rc1-py3-none-any.whl</a><br />
    <a href="/f/demo_pkg-1.0-py3-none-any.whl?a=1&amp;b=2#sha256=${sha('b')}" data-dist-info-metadata="sha256=${sha('c')}" data-core-metadata="sha256=${sha('c')}" data-yanked="" data-upload-time="2024-01-02T03:04:05.000Z">demo_pkg-1.0-py3-none-any.whl</a><br />
    <a href="../../files/demo_pkg-1.0.tar.gz#sha256=${sha('a')}" data-requires-python="&gt;=3.8" data-upload-time="2024-01-02T03:04:05.000Z">demo_pkg-1.0.tar.gz</a><br />
  </body>
</html>
`);
});

test('project page in JSON (PEP 691 + 700)', () => {
  const doc = JSON.parse(renderProjectJson(page));
  assert.deepEqual(doc, {
    meta: { 'api-version': '1.4' },
    name: 'demo-pkg',
    'project-status': { status: 'active' },
    files: [
      { filename: 'demo_pkg-0.9-py3-none-any.whl', url: 'https://h.example/f/demo_pkg-0.9-py3-none-any.whl', hashes: { sha256: sha('d') }, 'requires-python': '<4,>=3.6', 'core-metadata': false, 'dist-info-metadata': false, yanked: `broken <b>"bad"</b> & 'worse'`, size: 7, 'upload-time': '2023-12-31T23:59:59.000Z' },
      { filename: 'demo_pkg-1.0rc1-py3-none-any.whl', url: 'demo_pkg-1.0rc1-py3-none-any.whl', hashes: { sha256: sha('e') }, 'core-metadata': { sha256: sha('f') }, 'dist-info-metadata': { sha256: sha('f') }, yanked: false, size: 100, 'upload-time': '2024-01-02T03:04:05.000Z' },
      { filename: 'demo_pkg-1.0-py3-none-any.whl', url: '/f/demo_pkg-1.0-py3-none-any.whl?a=1&b=2', hashes: { sha256: sha('b') }, 'core-metadata': { sha256: sha('c') }, 'dist-info-metadata': { sha256: sha('c') }, yanked: true, size: 100, 'upload-time': '2024-01-02T03:04:05.000Z' },
      { filename: 'demo_pkg-1.0.tar.gz', url: '../../files/demo_pkg-1.0.tar.gz', hashes: { sha256: sha('a') }, 'requires-python': '>=3.8', 'core-metadata': false, 'dist-info-metadata': false, yanked: false, size: 100, 'upload-time': '2024-01-02T03:04:05.000Z' },
    ],
    versions: ['0.9', '1.0rc1', '1.0'],
  });
  // Key order is part of the stable output (pages are cached and ETagged).
  assert.deepEqual(Object.keys(doc.files[0]), ['filename', 'url', 'hashes', 'requires-python', 'core-metadata', 'dist-info-metadata', 'yanked', 'size', 'upload-time']);
  assert.equal(renderProjectJson(page), renderProjectJson({ ...page, files: [...files].reverse() }));
});

test('root pages link normalized names and sort them', () => {
  const projects = [{ name: 'Zope.Interface' }, { name: 'a<b' }, { name: 'demo-pkg' }];
  assert.equal(renderRootHtml(projects), `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.4">
    <title>Simple index</title>
  </head>
  <body>
    <h1>Simple index</h1>
    <a href="a&lt;b/">a&lt;b</a><br />
    <a href="demo-pkg/">demo-pkg</a><br />
    <a href="zope-interface/">Zope.Interface</a><br />
  </body>
</html>
`);
  assert.equal(renderRootJson(projects), '{"meta":{"api-version":"1.4"},"projects":[{"name":"a<b"},{"name":"demo-pkg"},{"name":"Zope.Interface"}]}');
  assert.equal(renderRootJson([]), '{"meta":{"api-version":"1.4"},"projects":[]}');
});

test('upload times become ISO 8601 UTC', () => {
  assert.equal(toIsoUtc('2024-05-06 07:08:09'), '2024-05-06T07:08:09.000Z');
  assert.equal(toIsoUtc('2024-05-06T07:08:09+02:00'), '2024-05-06T05:08:09.000Z');
  // Already in PEP 700's form (an upstream's, with microseconds): kept as given.
  assert.equal(toIsoUtc('2024-05-06T07:08:09.123456Z'), '2024-05-06T07:08:09.123456Z');
  assert.equal(toIsoUtc('2024-05-06T07:08:09Z'), '2024-05-06T07:08:09Z');
  // No time, or not a time: nothing (the pages then leave the field out).
  assert.equal(toIsoUtc(''), '');
  assert.equal(toIsoUtc('yesterday'), '');
});

test('a file without an upload time is listed without one', () => {
  const p: SimpleProjectPage = { name: 'demo-pkg', files: [{ ...files[0], uploadTime: '' }], versions: ['1.0'] };
  assert.doesNotMatch(renderProjectHtml(p), /data-upload-time/);
  assert.equal('upload-time' in JSON.parse(renderProjectJson(p)).files[0], false);
});

test('project status (PEP 792) in HTML <meta> tags and the JSON project-status object', () => {
  const quarantined: SimpleProjectPage = { name: 'demo-pkg', files: [], versions: [], status: { status: 'quarantined', reason: 'malware <script> & "more"' } };
  const html = renderProjectHtml(quarantined);
  assert.match(html, /<meta name="pypi:repository-version" content="1.4">\n    <meta name="pypi:project-status" content="quarantined">\n    <meta name="pypi:project-status-reason" content="malware &lt;script&gt; &amp; &quot;more&quot;">\n    <title>/);
  assert.deepEqual(JSON.parse(renderProjectJson(quarantined))['project-status'], { status: 'quarantined', reason: 'malware <script> & "more"' });
  const archived: SimpleProjectPage = { ...quarantined, status: { status: 'archived', reason: null } };
  assert.match(renderProjectHtml(archived), /<meta name="pypi:project-status" content="archived">\n    <title>/);
  assert.doesNotMatch(renderProjectHtml(archived), /project-status-reason/);
  assert.deepEqual(JSON.parse(renderProjectJson(archived))['project-status'], { status: 'archived' });
  // Active is the default: said in JSON, left out of HTML.
  assert.doesNotMatch(renderProjectHtml(page), /project-status/);
});

// pip's own parsers are the judge of what the pages mean. (pip takes a link's
// filename from its URL path, so URLs must end with the filename.)
const pipAvailable = spawnSync('python3', ['-c', 'import pip._internal.index.collector'], { stdio: 'ignore' }).status === 0;

test('pip reads the same links from the HTML and the JSON page', { skip: pipAvailable ? false : 'python3 with pip not found' }, () => {
  const script = `
import json, sys
from pip._internal.index.collector import parse_links, IndexContent
out = {}
for kind, ctype in (("html", "text/html"), ("json", "application/vnd.pypi.simple.v1+json")):
    content = open(sys.argv[1 if kind == "html" else 2], "rb").read()
    links = parse_links(IndexContent(content, ctype, "utf-8", "https://repo.example/r/simple/demo-pkg/", cache_link_parsing=False))
    out[kind] = [{"filename": l.filename, "url": l.url, "requires_python": l.requires_python, "yanked": l.yanked_reason,
                  "metadata": l.metadata_file_data.hashes if l.metadata_file_data else None} for l in links]
print(json.dumps(out))
`;
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  try {
    const html = `${dir}/page.html`;
    const json = `${dir}/page.json`;
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', html], { input: renderProjectHtml(page) });
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', json], { input: renderProjectJson(page) });
    const out = JSON.parse(execFileSync('python3', ['-c', script, html, json], { encoding: 'utf8' }));
    const want = [
      { filename: 'demo_pkg-0.9-py3-none-any.whl', url: `https://h.example/f/demo_pkg-0.9-py3-none-any.whl#sha256=${sha('d')}`, requires_python: '<4,>=3.6', yanked: `broken <b>"bad"</b> & 'worse'`, metadata: null },
      { filename: 'demo_pkg-1.0rc1-py3-none-any.whl', url: `https://repo.example/r/simple/demo-pkg/demo_pkg-1.0rc1-py3-none-any.whl#sha256=${sha('e')}`, requires_python: null, yanked: null, metadata: { sha256: sha('f') } },
      { filename: 'demo_pkg-1.0-py3-none-any.whl', url: `https://repo.example/f/demo_pkg-1.0-py3-none-any.whl?a=1&b=2#sha256=${sha('b')}`, requires_python: null, yanked: '', metadata: { sha256: sha('c') } },
      { filename: 'demo_pkg-1.0.tar.gz', url: `https://repo.example/r/files/demo_pkg-1.0.tar.gz#sha256=${sha('a')}`, requires_python: '>=3.8', yanked: null, metadata: null },
    ];
    assert.deepEqual(out.html, want);
    // From JSON pip keeps the URL without a fragment and takes hashes from `hashes`.
    assert.deepEqual(out.json, want.map((w) => ({ ...w, url: w.url.replace(/#.*$/, '') })));
  } finally {
    execFileSync('rm', ['-rf', dir]);
  }
});
