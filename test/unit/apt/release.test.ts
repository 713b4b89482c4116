import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseControl } from '../../../src/formats/apt/control.ts';
import { buildArchRelease, buildRelease, formatReleaseDate, suiteIndexPaths, type ReleaseFile } from '../../../src/formats/apt/release.ts';

const file = (path: string, size: number, n: string, sha1 = true): ReleaseFile => ({
  path,
  size,
  md5: n.repeat(32),
  sha1: sha1 ? n.repeat(40) : undefined,
  sha256: n.repeat(64),
  sha512: n.repeat(128),
});

test('formatReleaseDate writes RFC 2822 in UTC', () => {
  assert.equal(formatReleaseDate(new Date(Date.UTC(2026, 10, 21, 10, 0, 0))), 'Sat, 21 Nov 2026 10:00:00 UTC');
  assert.equal(formatReleaseDate(new Date(Date.UTC(2025, 0, 5, 3, 4, 5))), 'Sun, 05 Jan 2025 03:04:05 UTC');
  assert.throws(() => formatReleaseDate(new Date('nope')), TypeError);
});

test('a Release file has the layout of Debian\'s archive', () => {
  const text = buildRelease({
    origin: 'Wharf',
    label: 'Wharf debs',
    suite: 'stable',
    codename: 'bookworm',
    date: new Date(Date.UTC(2026, 10, 21, 10, 0, 0)),
    validUntil: new Date(Date.UTC(2026, 11, 21, 10, 0, 0)),
    acquireByHash: true,
    architectures: ['amd64', 'arm64'],
    components: ['main'],
    description: 'Wharf test repository',
    files: [
      file('main/binary-amd64/Release', 102, '3'),
      file('main/binary-amd64/Packages', 123456, '1'),
      file('main/binary-amd64/Packages.gz', 0, '2'),
    ],
  });
  assert.equal(text, `Origin: Wharf
Label: Wharf debs
Suite: stable
Codename: bookworm
Date: Sat, 21 Nov 2026 10:00:00 UTC
Valid-Until: Mon, 21 Dec 2026 10:00:00 UTC
Acquire-By-Hash: yes
Architectures: amd64 arm64
Components: main
Description: Wharf test repository
MD5Sum:
 ${'1'.repeat(32)} 123456 main/binary-amd64/Packages
 ${'2'.repeat(32)}      0 main/binary-amd64/Packages.gz
 ${'3'.repeat(32)}    102 main/binary-amd64/Release
SHA1:
 ${'1'.repeat(40)} 123456 main/binary-amd64/Packages
 ${'2'.repeat(40)}      0 main/binary-amd64/Packages.gz
 ${'3'.repeat(40)}    102 main/binary-amd64/Release
SHA256:
 ${'1'.repeat(64)} 123456 main/binary-amd64/Packages
 ${'2'.repeat(64)}      0 main/binary-amd64/Packages.gz
 ${'3'.repeat(64)}    102 main/binary-amd64/Release
SHA512:
 ${'1'.repeat(128)} 123456 main/binary-amd64/Packages
 ${'2'.repeat(128)}      0 main/binary-amd64/Packages.gz
 ${'3'.repeat(128)}    102 main/binary-amd64/Release
`);
  // It is valid deb822 that apt's parser (like ours) reads back.
  const parsed = parseControl(text);
  assert.equal(parsed.get('Suite'), 'stable');
  assert.equal(parsed.get('SHA256')?.split('\n').length, 4);
});

test('optional fields: no SHA1 unless every file has one; version, NotAutomatic, Signed-By', () => {
  const text = buildRelease({
    origin: 'o', label: 'l', suite: 'experimental', codename: 'rc', version: '13.1',
    date: new Date(0), notAutomatic: true, butAutomaticUpgrades: true,
    architectures: ['amd64'], components: ['main', 'contrib'], signedBy: ['AAAA', 'BBBB'],
    files: [file('main/binary-amd64/Packages', 5, 'a', false), file('contrib/binary-amd64/Packages', 5, 'b')],
  });
  const fields = parseControl(text);
  assert.deepEqual(fields.names, [
    'Origin', 'Label', 'Suite', 'Version', 'Codename', 'Date', 'NotAutomatic', 'ButAutomaticUpgrades',
    'Architectures', 'Components', 'Signed-By', 'MD5Sum', 'SHA256', 'SHA512',
  ]);
  assert.equal(fields.get('Date'), 'Thu, 01 Jan 1970 00:00:00 UTC');
  assert.equal(fields.get('Signed-By'), 'AAAA, BBBB');
  assert.equal(fields.get('Acquire-By-Hash'), undefined);
  // Sorted by path.
  assert.match(fields.get('MD5Sum')!, /^\n\S+ 5 contrib\/binary-amd64\/Packages\n\S+ 5 main\/binary-amd64\/Packages$/);
});

test('header values must be one line and paths must be relative without spaces', () => {
  const base = { origin: 'o', label: 'l', suite: 's', codename: 'c', date: new Date(0), architectures: ['amd64'], components: ['main'], files: [] };
  assert.throws(() => buildRelease({ ...base, description: 'two\nlines' }), TypeError);
  assert.throws(() => buildRelease({ ...base, files: [file('/abs', 1, 'a')] }), TypeError);
  assert.throws(() => buildRelease({ ...base, files: [file('a b', 1, 'a')] }), TypeError);
  assert.equal(buildRelease(base), 'Origin: o\nLabel: l\nSuite: s\nCodename: c\nDate: Thu, 01 Jan 1970 00:00:00 UTC\nArchitectures: amd64\nComponents: main\n');
});

test('the per-architecture Release file', () => {
  assert.equal(
    buildArchRelease({ archive: 'stable', origin: 'Wharf', label: 'Wharf', acquireByHash: true, component: 'main', architecture: 'amd64' }),
    'Archive: stable\nOrigin: Wharf\nLabel: Wharf\nAcquire-By-Hash: yes\nComponent: main\nArchitecture: amd64\n',
  );
});

test('suiteIndexPaths lists what the Release file must cover', () => {
  assert.deepEqual(suiteIndexPaths({ components: ['main'], architectures: ['amd64'] }), [
    'main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz', 'main/binary-amd64/Packages.xz', 'main/binary-amd64/Release',
  ]);
  const all = suiteIndexPaths({ components: ['main', 'contrib'], architectures: ['amd64', 'arm64'], contents: true });
  assert.equal(all.length, 2 * 2 * 5);
  assert.ok(all.includes('contrib/Contents-arm64.gz'));
  assert.ok(all.includes('contrib/binary-arm64/Release'));
});
