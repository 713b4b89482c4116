// What an APT proxy accepts from its upstream under a dists/ name: a Release or InRelease that
// parses and lists digests, a Packages whose stanzas name packages; anything else is a failure
// of the upstream (the proxy serves its last good copy).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertDistsFileLooksRight, assertPackagesText, poolHashes } from '../../../src/formats/apt/proxy-index.ts';

const RELEASE = `Origin: Test\nSuite: stable\nCodename: stable\nSHA256:\n ${'a'.repeat(64)} 10 main/binary-amd64/Packages\n`;
const bytes = (s: string) => Buffer.from(s);

test('a Release that parses and lists digests is accepted; garbage, markup and a digest-less one are not', () => {
  assertDistsFileLooksRight('dists/stable/Release', bytes(RELEASE), 'text/plain');
  assert.throws(() => assertDistsFileLooksRight('dists/stable/Release', bytes('this is not a release\n'), 'text/plain'), /does not parse/);
  assert.throws(() => assertDistsFileLooksRight('dists/stable/Release', bytes('Origin: Test\nSuite: stable\n'), 'text/plain'), /no index digests/);
  assert.throws(() => assertDistsFileLooksRight('dists/stable/Release', bytes('<html>x</html>'), 'text/html'), /HTML/);
});

test('an InRelease must be a clear-signed Release', () => {
  const signed = `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${RELEASE}-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n`;
  assertDistsFileLooksRight('dists/stable/InRelease', bytes(signed), 'text/plain');
  assert.throws(() => assertDistsFileLooksRight('dists/stable/InRelease', bytes(RELEASE), 'text/plain'), /clear-signed/);
  const cut = signed.slice(0, signed.indexOf('-----BEGIN PGP SIGNATURE'));
  assert.throws(() => assertDistsFileLooksRight('dists/stable/InRelease', bytes(cut), 'text/plain'), /clear-signed/);
});

test('a Packages index: stanzas that name packages, or none at all', () => {
  const text = `Package: a\nVersion: 1\nFilename: pool/main/a/a_1_all.deb\nSHA256: ${'b'.repeat(64)}\n\n`;
  assertPackagesText(text, 'Packages');
  assertPackagesText('', 'Packages');
  assert.deepEqual(poolHashes(text), [['pool/main/a/a_1_all.deb', 'b'.repeat(64)]]);
  assert.throws(() => assertPackagesText('Error: gateway\n', 'Packages'), /names no package/);
  assert.throws(() => assertPackagesText('<html>\n', 'Packages'), /does not parse/);
});
