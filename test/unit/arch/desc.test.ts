// desc is compared with repo-add's output in repo-add.test.ts; these cover the rules alone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { WharfError } from '../../../src/core/errors.ts';
import { buildDesc, buildFilesEntry, dbEntryName, encodePgpsig, parseDbEntry } from '../../../src/formats/arch/desc.ts';
import { parsePkginfo } from '../../../src/formats/arch/pkginfo.ts';

const FILE = { filename: 'a-1-1-any.pkg.tar.zst', csize: 10, md5: 'm', sha256: 's' };

describe('desc entries', () => {
  test('write only the fields that have a value, each followed by a blank line', () => {
    const info = parsePkginfo('pkgname = a\npkgver = 1-1\narch = any\n');
    assert.equal(buildDesc(info, FILE),
      '%FILENAME%\na-1-1-any.pkg.tar.zst\n\n%NAME%\na\n\n%VERSION%\n1-1\n\n%CSIZE%\n10\n\n%MD5SUM%\nm\n\n%SHA256SUM%\ns\n\n%ARCH%\nany\n\n');
    assert.equal(dbEntryName(info), 'a-1-1');
  });

  test('collapse whitespace runs in values, as repo-add does', () => {
    const info = parsePkginfo('pkgname = a\npkgver = 1-1\narch = any\npkgdesc = x \t  y\noptdepend = b:   why\n');
    const fields = parseDbEntry(buildDesc(info, { ...FILE, pgpsig: 'c2ln' }));
    assert.deepEqual(fields.get('DESC'), ['x y']);
    assert.deepEqual(fields.get('OPTDEPENDS'), ['b: why']);
    assert.deepEqual(fields.get('PGPSIG'), ['c2ln']);
  });

  test('files entry is %FILES% and one path a line', () => {
    assert.equal(buildFilesEntry([]), '%FILES%\n');
    assert.equal(buildFilesEntry(['usr/', 'usr/x']), '%FILES%\nusr/\nusr/x\n');
    assert.deepEqual(parseDbEntry(buildFilesEntry(['usr/', 'usr/x'])).get('FILES'), ['usr/', 'usr/x']);
  });

  test('encodePgpsig base64s a binary signature and refuses what repo-add refuses', () => {
    const sig = randomBytes(300);
    assert.equal(encodePgpsig(sig), sig.toString('base64'));
    const refuses = (data: Uint8Array, pattern: RegExp) =>
      assert.throws(() => encodePgpsig(data), (err: unknown) => err instanceof WharfError && err.code === 'INVALID_PACKAGE' && pattern.test(err.message));
    refuses(Buffer.from('-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n'), /ASCII-armored/);
    refuses(randomBytes(16385), /larger than 16384 bytes/);
  });
});
