import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { parseCoreMetadata } from '../../../src/formats/pypi/core-metadata.ts';
import { renderProjectJsonApi, type JsonApiFile, type JsonApiVersion } from '../../../src/formats/pypi/json-api.ts';

function file(filename: string, extra: Partial<JsonApiFile> = {}): JsonApiFile {
  const wheel = filename.endsWith('.whl');
  return {
    filename, url: `../../files/${filename}`, sha256: 'ab'.repeat(32), md5: 'cd'.repeat(16), size: 42,
    uploadTime: '2024-03-04T05:06:07.890Z', requiresPython: '>=3.8', coreMetadataSha256: null,
    yanked: false, yankedReason: null, packagetype: wheel ? 'bdist_wheel' : 'sdist', pythonVersion: wheel ? 'py3' : 'source',
    ...extra,
  };
}

function release(version: string, files: JsonApiFile[], extraMeta = ''): JsonApiVersion {
  const metadata = parseCoreMetadata(`Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: ${version}\nSummary: v${version}\n${extraMeta}\nLong text for ${version}\n`);
  return { version, metadata, files };
}

const versions = [
  release('1.0', [file('demo_pkg-1.0.tar.gz'), file('demo_pkg-1.0-py3-none-any.whl')],
    'Requires-Dist: attrs>=22\nClassifier: Framework :: Demo\nProject-URL: Source, https://src.example\nHome-page: https://home.example\nAuthor: Ada\nLicense: MIT\nKeywords: demo,test\n'),
  release('2.0rc1', [file('demo_pkg-2.0rc1-py3-none-any.whl')]),
  release('1.1', [file('demo_pkg-1.1-py3-none-any.whl', { yanked: true, yankedReason: 'broken build' })]),
  release('0.9', []),
];

test('project document: latest non-yanked final release, all releases, urls of the latest', () => {
  const doc = renderProjectJsonApi({ name: 'demo-pkg', versions }) as Record<string, any>;
  assert.deepEqual(Object.keys(doc), ['info', 'last_serial', 'releases', 'urls', 'vulnerabilities']);
  const info = doc.info;
  assert.equal(info.version, '1.0');
  assert.equal(info.name, 'Demo.Pkg');
  assert.equal(info.summary, 'v1.0');
  assert.equal(info.description, 'Long text for 1.0\n');
  assert.deepEqual(info.requires_dist, ['attrs>=22']);
  assert.equal(info.requires_python, null);
  assert.deepEqual(info.classifiers, ['Framework :: Demo']);
  assert.deepEqual(info.project_urls, { Homepage: 'https://home.example', Source: 'https://src.example' });
  assert.equal(info.home_page, 'https://home.example');
  assert.equal(info.author, 'Ada');
  assert.equal(info.author_email, null);
  assert.equal(info.license, 'MIT');
  assert.equal(info.keywords, 'demo,test');
  assert.equal(info.yanked, false);
  assert.equal(info.yanked_reason, null);
  assert.deepEqual(Object.keys(doc.releases), ['0.9', '1.0', '1.1', '2.0rc1']);
  assert.deepEqual(doc.releases['0.9'], []);
  assert.deepEqual(doc.urls.map((f: any) => f.filename), ['demo_pkg-1.0-py3-none-any.whl', 'demo_pkg-1.0.tar.gz']);
  assert.deepEqual(doc.urls[1], {
    comment_text: '', digests: { blake2b_256: null, md5: 'cd'.repeat(16), sha256: 'ab'.repeat(32) }, downloads: -1,
    filename: 'demo_pkg-1.0.tar.gz', has_sig: false, md5_digest: 'cd'.repeat(16), packagetype: 'sdist', python_version: 'source',
    requires_python: '>=3.8', size: 42, upload_time: '2024-03-04T05:06:07', upload_time_iso_8601: '2024-03-04T05:06:07.890Z',
    url: '../../files/demo_pkg-1.0.tar.gz', yanked: false, yanked_reason: null,
  });
  assert.equal(doc.releases['1.1'][0].yanked, true);
  assert.equal(doc.releases['1.1'][0].yanked_reason, 'broken build');
  assert.equal(doc.last_serial, 0);
  assert.deepEqual(doc.vulnerabilities, []);
});

test('requires_dist is null when empty; only pre-releases: the newest one', () => {
  const doc = renderProjectJsonApi({ name: 'demo-pkg', versions: [release('2.0rc1', [file('a-2.0rc1.tar.gz')]), release('2.0b1', [file('a-2.0b1.tar.gz')])] }) as Record<string, any>;
  assert.equal(doc.info.version, '2.0rc1');
  assert.equal(doc.info.requires_dist, null);
  assert.equal(doc.info.project_urls, null);
});

test('per-version document: that version, no releases, yanked flag', () => {
  const doc = renderProjectJsonApi({ name: 'demo-pkg', versions, selectedVersion: '1.1' }) as Record<string, any>;
  assert.deepEqual(Object.keys(doc), ['info', 'last_serial', 'urls', 'vulnerabilities']);
  assert.equal(doc.info.version, '1.1');
  assert.equal(doc.info.yanked, true);
  assert.equal(doc.info.yanked_reason, 'broken build');
  assert.deepEqual(doc.urls.map((f: any) => f.filename), ['demo_pkg-1.1-py3-none-any.whl']);
  // Versions match in canonical form.
  assert.equal((renderProjectJsonApi({ name: 'demo-pkg', versions, selectedVersion: '2.0-RC1' }) as any).info.version, '2.0rc1');
  assert.throws(() => renderProjectJsonApi({ name: 'demo-pkg', versions, selectedVersion: '3.0' }), (err: unknown) => isWharfError(err) && err.status === 404);
});

test('all releases yanked: the newest; no metadata: nulls and the given name', () => {
  const yanked = [release('1.0', [file('a-1.0.tar.gz', { yanked: true })]), release('1.2', [file('a-1.2.tar.gz', { yanked: true })])];
  assert.equal((renderProjectJsonApi({ name: 'a', versions: yanked }) as any).info.version, '1.2');
  const bare = renderProjectJsonApi({ name: 'bare', versions: [{ version: '1.0', metadata: null, files: [file('bare-1.0.tar.gz')] }] }) as any;
  assert.equal(bare.info.name, 'bare');
  assert.equal(bare.info.summary, null);
  assert.deepEqual(bare.info.classifiers, []);
  const empty = renderProjectJsonApi({ name: 'none', versions: [] }) as any;
  assert.equal(empty.info.version, null);
  assert.deepEqual(empty.urls, []);
  assert.deepEqual(empty.releases, {});
});
