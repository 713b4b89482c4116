import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WharfError } from '../../../src/core/errors.ts';
import { escapeLikeBsdtar, isRootDotFile, readArchPackage } from '../../../src/formats/arch/package-reader.ts';
import { buildPackage, makePkginfo, removeDir, tempDir, type PackageCompression } from './fixtures.ts';

const PKGINFO = makePkginfo({ pkgname: 'hello', pkgbase: 'hello', pkgver: '1.0-1', pkgdesc: 'Hello', arch: 'any', size: '42' });
const FILES = {
  '.BUILDINFO': 'format = 2\n',
  '.MTREE': 'not really an mtree\n',
  '.INSTALL': 'post_install() { :; }\n',
  'usr/bin/hello': '#!/bin/sh\necho hello\n',
  'usr/share/hello/.hidden': 'kept: only root dot-files are left out\n',
  'usr/share/hello/empty/': '',
};

let dir: string;
before(async () => { dir = await tempDir(); });
after(async () => { await removeDir(dir); });

async function assertInvalid(file: string, pattern: RegExp, options?: { maxPkginfoSize: number }) {
  await assert.rejects(readArchPackage(file, options), (err: unknown) => {
    assert.ok(err instanceof WharfError, `expected a WharfError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_PACKAGE');
    assert.match(err.message, pattern);
    return true;
  });
}

/** What `bsdtar --exclude='^.*' -tf pkg | LC_ALL=C sort -u` says, as repo-add runs it. */
function bsdtarList(file: string): string[] {
  const out = execFileSync('sh', ['-c', `bsdtar --exclude='^.*' -tf '${file}' | LC_ALL=C sort -u`], { env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '' } });
  return out.toString('utf8').split('\n').filter((l) => l !== '');
}

describe('readArchPackage', () => {
  for (const compression of ['zstd', 'xz', 'gzip', 'bzip2', 'none'] as PackageCompression[]) {
    test(`reads a ${compression} package`, async () => {
      const file = await buildPackage(path.join(dir, `hello-1.0-1-any.${compression}.pkg.tar`), { pkginfo: PKGINFO, files: FILES, compression });
      const pkg = await readArchPackage(file);
      assert.equal(pkg.compression, compression);
      assert.equal(pkg.rawPkginfo, PKGINFO);
      assert.equal(pkg.pkginfo.pkgname, 'hello');
      assert.equal(pkg.pkginfo.pkgver, '1.0-1');
      assert.equal(pkg.pkginfo.size, 42);
      assert.deepEqual(pkg.files, [
        'usr/', 'usr/bin/', 'usr/bin/hello', 'usr/share/', 'usr/share/hello/', 'usr/share/hello/.hidden', 'usr/share/hello/empty/',
      ]);
      assert.deepEqual(pkg.files, bsdtarList(file));
    });
  }

  test('detects the compression from the bytes, not the name', async () => {
    const file = await buildPackage(path.join(dir, 'liar-1.0-1-any.pkg.tar.gz'), { pkginfo: PKGINFO, files: FILES, compression: 'xz' });
    const pkg = await readArchPackage(file);
    assert.equal(pkg.compression, 'xz');
    assert.equal(pkg.pkginfo.pkgname, 'hello');
  });

  test('lists odd file names exactly as bsdtar does', async () => {
    const file = await buildPackage(path.join(dir, 'odd.pkg.tar.zst'), {
      pkginfo: PKGINFO,
      files: {
        'usr/share/odd/with space': 'x',
        'usr/share/odd/unicodé ✓': 'x',
        'usr/share/odd/back\\slash': 'x',
        'usr/share/odd/tab\there': 'x',
        'usr/share/odd/^caret': 'x',
        [`usr/share/odd/${'long-directory-name/'.repeat(8)}file-with-a-long-name`]: 'x',
        '.dotdir/inside': 'left out with its directory',
      },
      symlinks: { 'usr/bin/link': '../share/odd/with space' },
    });
    const pkg = await readArchPackage(file);
    assert.deepEqual(pkg.files, bsdtarList(file));
    assert.ok(pkg.files.includes('usr/share/odd/tab\\there'));
    assert.ok(pkg.files.includes('usr/share/odd/back\\\\slash'));
    assert.ok(pkg.files.includes('usr/bin/link'));
    assert.ok(!pkg.files.some((f) => f.startsWith('.')));
  });

  for (const tarFormat of ['pax', 'gnutar'] as const) {
    test(`reads a ${tarFormat} tar with long names`, async () => {
      const long = `usr/share/${'a-rather-long-directory-name/'.repeat(6)}and-a-file-name-that-is-long-too.txt`;
      const file = await buildPackage(path.join(dir, `${tarFormat}.pkg.tar.zst`), { pkginfo: PKGINFO, files: { ...FILES, [long]: 'x' }, tarFormat });
      const pkg = await readArchPackage(file);
      assert.equal(pkg.pkginfo.pkgname, 'hello');
      assert.ok(pkg.files.includes(long));
      assert.deepEqual(pkg.files, bsdtarList(file));
    });
  }

  test('streams a large package', async () => {
    // 24 MiB of incompressible data after .PKGINFO: read in one pass, nothing held.
    const file = await buildPackage(path.join(dir, 'big.pkg.tar.zst'), {
      pkginfo: PKGINFO,
      files: { 'usr/share/big/a.bin': randomBytes(16 << 20), 'usr/share/big/b.bin': randomBytes(8 << 20) },
    });
    const pkg = await readArchPackage(file);
    assert.deepEqual(pkg.files, ['usr/', 'usr/share/', 'usr/share/big/', 'usr/share/big/a.bin', 'usr/share/big/b.bin']);
  });

  test('finds .PKGINFO wherever it is in the archive', async () => {
    const file = path.join(dir, 'late.pkg.tar');
    const src = await tempDir();
    try {
      await writeFile(path.join(src, '.PKGINFO'), PKGINFO);
      await writeFile(path.join(src, 'zzz'), 'x');
      execFileSync('bsdtar', ['--uid', '0', '--gid', '0', '-cf', file, 'zzz', '.PKGINFO'], { cwd: src });
    } finally {
      await removeDir(src);
    }
    const pkg = await readArchPackage(file);
    assert.equal(pkg.pkginfo.pkgname, 'hello');
    assert.deepEqual(pkg.files, ['zzz']);
  });

  test('refuses a .PKGINFO over the size limit', async () => {
    const file = await buildPackage(path.join(dir, 'fat.pkg.tar.zst'), { pkginfo: PKGINFO + `pkgdesc = ${'x'.repeat(5000)}\n`, files: FILES });
    await assertInvalid(file, /\.PKGINFO is larger than 4096 bytes/, { maxPkginfoSize: 4096 });
    await assert.doesNotReject(readArchPackage(file, { maxPkginfoSize: 8192 }));
    const huge = await buildPackage(path.join(dir, 'huge.pkg.tar.zst'), { pkginfo: PKGINFO + `depend = x\n`.repeat(200_000), files: FILES });
    await assertInvalid(huge, /\.PKGINFO is larger than 1048576 bytes/); // the default limit
  });

  test('refuses garbage, empty and truncated files', async () => {
    const garbage = path.join(dir, 'garbage.pkg.tar.zst');
    await writeFile(garbage, randomBytes(3000));
    await assertInvalid(garbage, /not a pacman package/);

    const text = path.join(dir, 'text.pkg.tar.zst');
    await writeFile(text, 'pkgname = hello\n'.repeat(100));
    await assertInvalid(text, /neither a tar archive nor compressed/);

    const empty = path.join(dir, 'empty.pkg.tar.zst');
    await writeFile(empty, '');
    await assertInvalid(empty, /empty/);

    const gzGarbage = path.join(dir, 'gzgarbage.pkg.tar.gz');
    await writeFile(gzGarbage, Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(2000)]));
    await assertInvalid(gzGarbage, /not a valid gzip-compressed tar archive/);

    const cut = await buildPackage(path.join(dir, 'cut.pkg.tar.zst'), { pkginfo: PKGINFO, files: { 'usr/share/x': randomBytes(200_000) } });
    const size = (await readFile(cut)).length;
    await truncate(cut, Math.floor(size / 2));
    await assertInvalid(cut, /not a valid zstd-compressed tar archive/);

    const cutTar = await buildPackage(path.join(dir, 'cut.pkg.tar'), { pkginfo: PKGINFO, files: { 'usr/share/x': randomBytes(200_000) }, compression: 'none' });
    await truncate(cutTar, 100_000);
    await assertInvalid(cutTar, /not a pacman package/);
  });

  // Defect 12 of issue 8: the whole compressed stream must decode and the tar be whole.
  test('integrity: a tar cut at an entry boundary, a flipped byte, a lying size', async () => {
    const big = randomBytes(50_000);
    const plain = await buildPackage(path.join(dir, 'whole.pkg.tar'), { pkginfo: PKGINFO, files: { 'usr/share/x': big, 'usr/share/y': 'last\n' }, compression: 'none' });
    const bytes = await readFile(plain);
    assert.equal((await readArchPackage(plain)).pkginfo.pkgname, 'hello');
    // Cut where the last entry ends: a tar reader sees no error, only fewer entries.
    let end = bytes.length;
    while (bytes[end - 1] === 0) end--;
    end = Math.ceil(end / 512) * 512;
    const cutAtBoundary = path.join(dir, 'boundary.pkg.tar');
    await writeFile(cutAtBoundary, bytes.subarray(0, end - 1024));
    await assertInvalid(cutAtBoundary, /end-of-archive/);
    // A flipped byte inside a zstd frame (zstd's checksum) and an xz stream.
    for (const compression of ['zstd', 'xz', 'gzip'] as PackageCompression[]) {
      const file = await buildPackage(path.join(dir, `flip.${compression}.pkg.tar`), { pkginfo: PKGINFO, files: { 'usr/share/x': big }, compression });
      const flipped = Buffer.from(await readFile(file));
      flipped[Math.floor(flipped.length * 0.7)] ^= 0x10;
      await writeFile(file, flipped);
      await assertInvalid(file, new RegExp(`not a valid ${compression}-compressed tar archive`));
    }
    // A header whose size claims more than the archive holds (checksum fixed up).
    const lying = Buffer.from(bytes);
    let at = 0;
    while (!lying.toString('latin1', at, at + 100).startsWith('usr/share/x')) at += 512;
    lying.write('00077777777\0', at + 124, 'latin1');
    lying.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += lying[at + i];
    lying.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
    const lyingFile = path.join(dir, 'lying.pkg.tar');
    await writeFile(lyingFile, lying);
    await assertInvalid(lyingFile, /not a pacman package/);
  });

  test('refuses a tar without .PKGINFO at its root', async () => {
    const none = await buildPackage(path.join(dir, 'nopkginfo.pkg.tar.xz'), { files: FILES, compression: 'xz' });
    await assertInvalid(none, /no \.PKGINFO/);
    const nested = await buildPackage(path.join(dir, 'nested.pkg.tar.zst'), { files: { 'usr/.PKGINFO': PKGINFO } });
    await assertInvalid(nested, /no \.PKGINFO/);
  });

  test('refuses a .PKGINFO without pkgname or pkgver', async () => {
    const noName = await buildPackage(path.join(dir, 'noname.pkg.tar.zst'), { pkginfo: 'pkgver = 1.0-1\narch = any\n', files: FILES });
    await assertInvalid(noName, /no pkgname/);
    const noVer = await buildPackage(path.join(dir, 'nover.pkg.tar.zst'), { pkginfo: 'pkgname = a\narch = any\n', files: FILES });
    await assertInvalid(noVer, /no pkgver/);
    const latin1 = await buildPackage(path.join(dir, 'latin1.pkg.tar.zst'), { files: { '.PKGINFO': Buffer.from(`${PKGINFO}packager = Jos\xe9\n`, 'latin1') } });
    await assertInvalid(latin1, /not valid UTF-8/);
  });

  test('a missing file is not the client\'s fault', async () => {
    await assert.rejects(readArchPackage(path.join(dir, 'does-not-exist.pkg.tar.zst')), (err: unknown) => {
      assert.ok(!(err instanceof WharfError));
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    });
  });
});

describe('file list helpers', () => {
  test('isRootDotFile matches what bsdtar --exclude=^.* drops', () => {
    for (const name of ['.PKGINFO', '.MTREE', './.BUILDINFO', './/.INSTALL', '././.CHANGELOG', '.dir/', '.dir/x', '.']) {
      assert.ok(isRootDotFile(name), name);
    }
    for (const name of ['usr/', 'usr/.hidden', './', './usr/', '/.abs', 'a.b']) assert.ok(!isRootDotFile(name), name);
  });

  test('escapeLikeBsdtar escapes control characters and backslashes only', () => {
    assert.equal(escapeLikeBsdtar('a b/é✓'), 'a b/é✓');
    assert.equal(escapeLikeBsdtar('t\tn\nb\\x\x01\x7f'), 't\\tn\\nb\\\\x\\001\\177');
  });
});
