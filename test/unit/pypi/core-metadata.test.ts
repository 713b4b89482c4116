import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { parseCoreMetadata } from '../../../src/formats/pypi/core-metadata.ts';

test('a METADATA 2.1 file with multi-use fields, continuations and a body', () => {
  const text = [
    'Metadata-Version: 2.1',
    'Name: Demo.Pkg',
    'Version: 1.0.0rc1',
    'Summary: A demo',
    'Home-page: https://example.org',
    'Author: Ada',
    'Author-email: Ada <ada@example.org>',
    'License: MIT License',
    '        ',
    '        Permission is hereby granted',
    '          indented line',
    'Keywords: a,b',
    'Classifier: Programming Language :: Python :: 3',
    'Classifier: License :: OSI Approved :: MIT License',
    'Requires-Python: >=3.8',
    'Requires-Dist: requests (>=2.0)',
    'Requires-Dist: pytest ; extra == "test"',
    'Provides-Extra: test',
    'Project-URL: Source, https://example.org/src',
    'Project-URL: Bug Tracker,https://example.org/issues',
    'Dynamic: license',
    'Platform: any',
    'X-Custom: kept',
    'Description-Content-Type: text/markdown',
    '',
    '# Demo',
    '',
    'Body with a colon: not a header',
    '',
  ].join('\r\n');
  const m = parseCoreMetadata(text);
  assert.equal(m.metadataVersion, '2.1');
  assert.equal(m.name, 'Demo.Pkg');
  assert.equal(m.version, '1.0.0rc1');
  assert.equal(m.summary, 'A demo');
  assert.equal(m.homePage, 'https://example.org');
  assert.equal(m.authorEmail, 'Ada <ada@example.org>');
  assert.equal(m.license, 'MIT License\n\nPermission is hereby granted\n  indented line');
  assert.equal(m.keywords, 'a,b');
  assert.equal(m.requiresPython, '>=3.8');
  assert.deepEqual(m.classifiers, ['Programming Language :: Python :: 3', 'License :: OSI Approved :: MIT License']);
  assert.deepEqual(m.requiresDist, ['requests (>=2.0)', 'pytest ; extra == "test"']);
  assert.deepEqual(m.providesExtra, ['test']);
  assert.deepEqual(m.projectUrls, { Source: 'https://example.org/src', 'Bug Tracker': 'https://example.org/issues' });
  assert.deepEqual(m.dynamic, ['license']);
  assert.deepEqual(m.platforms, ['any']);
  assert.equal(m.descriptionContentType, 'text/markdown');
  assert.equal(m.description, '# Demo\n\nBody with a colon: not a header\n');
  assert.deepEqual(m.fields['x-custom'], ['kept']);
  assert.deepEqual(m.fields['requires-dist'], m.requiresDist);
  assert.equal(m.maintainer, undefined);
  assert.equal('maintainer' in m, false);
});

test('a legacy PKG-INFO with a folded Description header and no body', () => {
  const text = 'Metadata-Version: 1.0\nName: old\nVersion: 0.1\nDescription: First line\n        second line\n        \n        third\nPlatform: UNKNOWN\n';
  const m = parseCoreMetadata(text);
  assert.equal(m.description, 'First line\nsecond line\n\nthird');
  assert.deepEqual(m.requiresDist, []);
  assert.deepEqual(m.projectUrls, {});
});

test('header names are case-insensitive; tabs continue a header; bytes are decoded as UTF-8', () => {
  const m = parseCoreMetadata(Buffer.from('metadata-version: 2.3\nNAME: café-tools\nversion: 2\nsummary: one\n\ttwo\n', 'utf8'));
  assert.equal(m.name, 'café-tools');
  assert.equal(m.summary, 'one\ntwo');
  assert.throws(() => parseCoreMetadata(Buffer.from([0x4e, 0x61, 0xff])), /not valid UTF-8/);
});

test('a line that is not a header starts the body, as Python does', () => {
  const m = parseCoreMetadata('Metadata-Version: 2.1\nName: x\nVersion: 1\nthis is body\nmore\n');
  assert.equal(m.description, 'this is body\nmore\n');
});

test('missing required fields are a client error', () => {
  for (const [text, field] of [
    ['Name: x\nVersion: 1\n', 'Metadata-Version'],
    ['Metadata-Version: 2.1\nVersion: 1\n', 'Name'],
    ['Metadata-Version: 2.1\nName: x\nVersion:\n', 'Version'],
    ['', 'Metadata-Version'],
  ]) {
    assert.throws(() => parseCoreMetadata(text), (err: unknown) => isWharfError(err) && err.code === 'INVALID_PACKAGE' && err.message.includes(`no ${field} field`));
  }
});
