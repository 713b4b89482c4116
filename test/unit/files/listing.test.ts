import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryHref, formatSize, negotiateListing, renderListingHtml, renderListingJson, type Listing } from '../../../src/formats/files/listing.ts';

const listing: Listing = {
  repository: 'files',
  dir: 'rel/',
  dirs: ['v2', 'v1'],
  files: [
    { name: 'z.tgz', size: 2048, modified: '2025-01-02T03:04:05.000Z', sha256: 'b'.repeat(64) },
    { name: '<a&"b">#1?.tgz', size: 10, modified: '2025-01-01T00:00:00.000Z', sha256: 'a'.repeat(64) },
  ],
};

describe('directory listings', () => {
  it('JSON lists directories first, then files, by name, with relative links', () => {
    const doc = renderListingJson(listing);
    assert.equal(doc.path, '/rel/');
    assert.deepEqual(doc.entries.map((e) => [e.type, e.name, e.href]), [
      ['dir', 'v1', 'v1/'],
      ['dir', 'v2', 'v2/'],
      ['file', '<a&"b">#1?.tgz', '%3Ca%26%22b%22%3E%231%3F.tgz'],
      ['file', 'z.tgz', 'z.tgz'],
    ]);
    const z = doc.entries[3];
    assert.ok(z.type === 'file');
    assert.equal(z.size, 2048);
    assert.equal(z.sha256, 'b'.repeat(64));
  });

  it('HTML escapes names, links entries relatively and has a parent link below the root', () => {
    const html = renderListingHtml(listing);
    assert.match(html, /<title>Index of \/files\/rel\/<\/title>/);
    assert.match(html, /<a href="\.\.\/">\.\.\/<\/a>/);
    assert.match(html, /<a href="v1\/">v1\/<\/a>/);
    assert.match(html, /<a href="%3Ca%26%22b%22%3E%231%3F\.tgz">&lt;a&amp;&quot;b&quot;&gt;#1\?\.tgz<\/a>/);
    assert.ok(!html.includes('<a&'), 'raw names never reach the markup');
    assert.match(html, /title="2048 bytes">2\.0 KiB</);
    assert.match(html, /2025-01-02 03:04/);
    assert.ok(html.indexOf('v1/') < html.indexOf('v2/') && html.indexOf('v2/') < html.indexOf('z.tgz'));
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(hrefs, ['../', 'v1/', 'v2/', '%3Ca%26%22b%22%3E%231%3F.tgz', 'z.tgz']);
  });

  it('the root has no parent link and says when it is empty', () => {
    const html = renderListingHtml({ repository: 'files', dir: '', dirs: [], files: [] });
    assert.ok(!html.includes('href="../"'));
    assert.match(html, /empty/);
  });

  it('hrefs encode what would change a relative URL', () => {
    assert.equal(entryHref('a:b', false), 'a%3Ab');
    assert.equal(entryHref('x y', true), 'x%20y/');
  });

  it('sizes read like ls -h', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(1023), '1023 B');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(200 * 1024 * 1024), '200 MiB');
  });

  it('negotiates HTML or JSON', () => {
    assert.equal(negotiateListing(undefined, undefined), 'html');
    assert.equal(negotiateListing('*/*', undefined), 'html');
    assert.equal(negotiateListing('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined), 'html');
    assert.equal(negotiateListing('application/json', undefined), 'json');
    assert.equal(negotiateListing('text/html;q=0.5, application/json', undefined), 'json');
    assert.equal(negotiateListing('application/json;q=0.1, text/html', undefined), 'html');
    assert.equal(negotiateListing('text/html', 'json'), 'json');
    assert.equal(negotiateListing('application/json', 'html'), 'html');
    assert.equal(negotiateListing(undefined, 'xml'), null);
  });
});
