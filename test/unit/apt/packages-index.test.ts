import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ControlStanza, parseControl, parseStanzas, serializeStanza } from '../../../src/formats/apt/control.ts';
import { readDeb } from '../../../src/formats/apt/deb-reader.ts';
import { buildPackagesIndex, formatPackagesStanza, type PackagesEntry } from '../../../src/formats/apt/packages-index.ts';
import { buildDeb, digests, haveProgram, tempDir } from './helpers.ts';

// Control fields in an unusual order and spelling, plus fields dpkg does not know.
const CONTROL = [
  'Package: hello-wharf',
  'version: 1:1.0-2',
  'X-Zeta: last',
  'architecture: amd64',
  'Description: a test package',
  ' Longer text here.',
  ' .',
  ' Another paragraph.',
  'Maintainer: Test <t@example.com>',
  'x-lower-case: v',
  'Installed-Size: 12',
  'multi-arch: foreign',
  'Depends: libc6 (>= 2.3)',
  'Section: utils',
  'Priority: optional',
  'Homepage: https://example.com',
  'Source: hello-src (1.0-1)',
  'Foo_Bar: 1',
  'Pre-Depends: dpkg (>= 1.15)',
  '',
].join('\n');

const SUMS = {
  md5: '0123456789abcdef0123456789abcdef',
  sha1: '0123456789abcdef0123456789abcdef01234567',
  sha256: 'a'.repeat(64),
  sha512: 'b'.repeat(128),
};

// The layout dpkg-scanpackages 1.21 printed for this control file (checked by hand),
// with SHA512 added where apt-ftparchive puts it.
const EXPECTED = `Package: hello-wharf
Source: hello-src (1.0-1)
Version: 1:1.0-2
Architecture: amd64
Maintainer: Test <t@example.com>
Installed-Size: 12
Pre-Depends: dpkg (>= 1.15)
Depends: libc6 (>= 2.3)
Filename: pool/main/h/hello-src/hello-wharf_1.0-2_amd64.deb
Size: 1234
MD5sum: ${SUMS.md5}
SHA1: ${SUMS.sha1}
SHA256: ${SUMS.sha256}
SHA512: ${SUMS.sha512}
Section: utils
Priority: optional
Multi-Arch: foreign
Homepage: https://example.com
Description: a test package
 Longer text here.
 .
 Another paragraph.
Foo_bar: 1
X-Lower-Case: v
X-Zeta: last
`;

const entry = (control: ControlStanza, filename: string, size = 1234): PackagesEntry => ({ control, filename, size, ...SUMS });

test('a Packages stanza has dpkg-scanpackages\' exact layout', () => {
  const stanza = formatPackagesStanza(entry(parseControl(CONTROL), 'pool/main/h/hello-src/hello-wharf_1.0-2_amd64.deb'));
  assert.equal(stanza, EXPECTED);
});

test('repository fields in the control file are replaced, not duplicated', () => {
  const control = parseControl('Package: abc\nVersion: 1\nArchitecture: all\nFilename: ../../etc/passwd\nsize: 1\nMD5sum: x\n');
  const stanza = parseControl(formatPackagesStanza(entry(control, 'pool/main/a/abc/abc_1_all.deb', 99)));
  assert.equal(stanza.get('Filename'), 'pool/main/a/abc/abc_1_all.deb');
  assert.equal(stanza.get('Size'), '99');
  assert.equal(stanza.get('MD5sum'), SUMS.md5);
});

test('the index is sorted by name, then dpkg version, each stanza followed by a blank line', () => {
  const make = (name: string, version: string) =>
    entry(new ControlStanza([['Package', name], ['Version', version], ['Architecture', 'all']]), `pool/main/${name}_${version}_all.deb`);
  const index = buildPackagesIndex([
    make('beta', '1.0'), make('alpha', '1.0'), make('alpha', '1:0.1'), make('alpha', '1.0~rc1'),
    make('alpha', '1.0-1'), make('alpha', '1.10'), make('alpha', '1.9'),
  ]);
  const stanzas = parseStanzas(index);
  assert.deepEqual(stanzas.map((s) => `${s.get('Package')} ${s.get('Version')}`), [
    'alpha 1.0~rc1', 'alpha 1.0', 'alpha 1.0-1', 'alpha 1.9', 'alpha 1.10', 'alpha 1:0.1', 'beta 1.0',
  ]);
  assert.ok(index.endsWith('\n\n'));
  assert.equal(index.split('\n\n').length, 8);
  assert.equal(buildPackagesIndex([]), '');
});

test('matches dpkg-scanpackages (plus SHA512) and apt-ftparchive for a real .deb', async (t) => {
  if (!haveProgram('dpkg-scanpackages') && !haveProgram('apt-ftparchive')) {
    t.skip('neither dpkg-scanpackages (dpkg-dev) nor apt-ftparchive (apt-utils) is installed');
    return;
  }
  const dir = await tempDir(t);
  const deb = await buildDeb(dir, 'hello', { control: CONTROL, files: { 'usr/bin/hello': 'x\n' } });
  const bytes = await readFile(deb);
  const info = await readDeb(deb);
  const filename = path.basename(deb);
  const ours = formatPackagesStanza({ control: info.fields, filename, size: bytes.length, ...digests(bytes) });

  if (haveProgram('dpkg-scanpackages')) {
    const theirs = execFileSync('dpkg-scanpackages', ['.', '/dev/null'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const withoutSha512 = ours.replace(/^SHA512: .*\n/m, '');
    assert.equal(`${withoutSha512}\n`, theirs.replace(/^Filename: \.\//m, 'Filename: '));
  }
  if (haveProgram('apt-ftparchive')) {
    // apt-ftparchive orders fields its own way and keeps unknown fields' spelling;
    // every field and value must match.
    const theirs = parseControl(execFileSync('apt-ftparchive', ['packages', '.'], { cwd: dir, encoding: 'utf8' }).replace(/^Filename: \.\//m, 'Filename: '));
    const sorted = (s: ControlStanza) => serializeStanza([...s].map(([n, v]) => [n.toLowerCase(), v] as const).sort(([a], [b]) => a.localeCompare(b)));
    assert.equal(sorted(parseControl(ours)), sorted(theirs));
  }
});
