// The key test: the real repo-add (pacman 6.0.2) and Wharf index the same packages, and
// their `desc` and `files` entries must be identical, field by field and byte for byte.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRepoDb, readRepoDb } from '../../../src/formats/arch/db-archive.ts';
import { buildDesc, buildFilesEntry, dbEntryName, parseDbEntry } from '../../../src/formats/arch/desc.ts';
import { readArchPackage } from '../../../src/formats/arch/package-reader.ts';
import { buildPackage, fileFacts, makePkginfo, removeDir, tempDir, type PackageSpec } from './fixtures.ts';

const PACKAGES: Record<string, PackageSpec & { sig?: boolean }> = {
  'rich-2:1.2.3-4-x86_64.pkg.tar.zst': {
    sig: true,
    pkginfo: makePkginfo({
      pkgname: 'rich',
      pkgbase: 'rich-base',
      xdata: 'pkgtype=split',
      pkgver: '2:1.2.3-4',
      pkgdesc: 'A    rich   package  with = signs',
      url: 'https://example.org/rich?a=b&c=d',
      builddate: '1700000000',
      packager: 'Jane Doe <jane@example.org>',
      size: '1048576',
      arch: 'x86_64',
      license: ['MIT', 'custom:Foo Bar'],
      group: ['g1', 'g2'],
      replaces: ['old-rich'],
      conflict: ['other<2', 'another'],
      provides: ['librich.so=1-64', 'rich-compat'],
      backup: ['etc/rich.conf'],
      depend: ['glibc>=2.38', 'zlib'],
      optdepend: ['python: for the   python   bindings', 'perl'],
      makedepend: ['cmake', 'ninja'],
      checkdepend: ['check'],
      makepkgopt: ['strip', '!debug'],
    }),
    files: {
      '.BUILDINFO': 'format = 2\n',
      '.MTREE': 'mtree\n',
      '.INSTALL': 'post_install() { :; }\n',
      '.CHANGELOG': 'changes\n',
      'etc/rich.conf': 'x=1\n',
      'usr/bin/rich': '#!/bin/sh\n',
      'usr/lib/librich.so.1': randomBytes(5000),
      'usr/share/rich/.hidden': 'x',
      'usr/share/rich/with space': 'x',
      'usr/share/rich/unicodé ✓': 'x',
      'usr/share/rich/back\\slash': 'x',
      'usr/share/rich/tab\there': 'x',
      'usr/share/rich/Zebra': 'x',
      'usr/share/rich/empty/': '',
    },
    symlinks: { 'usr/lib/librich.so': 'librich.so.1' },
  },
  'minimal-0.1-1-any.pkg.tar.xz': {
    compression: 'xz',
    pkginfo: 'pkgname = minimal\npkgver = 0.1-1\narch = any\n',
    files: { 'opt/minimal/README': 'hi\n' },
  },
  'spaced-1.0-1.1-any.pkg.tar.gz': {
    compression: 'gzip',
    pkginfo: [
      '# hand-written, with odd spacing',
      'pkgname=spaced',
      '   pkgver   =   1.0-1.1   ',
      'pkgdesc =  lots    of   spaces  ',
      'arch = any',
      'size =  7',
      'depend =  foo   >=  1  ',
      'depend = bar',
      'license = GPL',
      'pkgdesc = the last   one wins',
      '',
    ].join('\n'),
    files: { 'usr/share/spaced/a': 'a', 'usr/share/spaced/b': 'b' },
  },
  'bare-1-1-any.pkg.tar': {
    compression: 'none',
    pkginfo: 'pkgname = bare\npkgbase = bare\npkgver = 1-1\narch = any\nsize = 0\nbuilddate = 0\n',
  },
};

let dir: string;
let theirs: { db: Map<string, { desc: string; files?: string }>; files: Map<string, { desc: string; files?: string }> };
const ours = new Map<string, { desc: string; files: string }>();

before(async () => {
  dir = await tempDir();
  const files: string[] = [];
  for (const [name, spec] of Object.entries(PACKAGES)) {
    const file = await buildPackage(path.join(dir, name), spec);
    if (spec.sig) await writeFile(`${file}.sig`, randomBytes(566)); // repo-add only base64s it
    files.push(file);
  }
  await mkdir(path.join(dir, 'repo'));
  execFileSync('repo-add', ['-q', '--nocolor', path.join(dir, 'repo', 'test.db.tar.gz'), ...files], {
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  theirs = {
    db: await readRepoDb(await readFile(path.join(dir, 'repo', 'test.db.tar.gz'))),
    files: await readRepoDb(await readFile(path.join(dir, 'repo', 'test.files.tar.gz'))),
  };

  for (const file of files) {
    const pkg = await readArchPackage(file);
    const facts = await fileFacts(file);
    const sig = PACKAGES[facts.filename].sig ? (await readFile(`${file}.sig`)).toString('base64') : undefined;
    ours.set(dbEntryName(pkg.pkginfo), {
      desc: buildDesc(pkg.pkginfo, sig === undefined ? facts : { ...facts, pgpsig: sig }),
      files: buildFilesEntry(pkg.files),
    });
  }
});
after(async () => { await removeDir(dir); });

describe('Wharf against repo-add', () => {
  test('has the same entries', () => {
    const names = [...ours.keys()].sort();
    assert.deepEqual(names, ['bare-1-1', 'minimal-0.1-1', 'rich-2:1.2.3-4', 'spaced-1.0-1.1']);
    assert.deepEqual([...theirs.db.keys()].sort(), names);
    assert.deepEqual([...theirs.files.keys()].sort(), names);
  });

  for (const name of ['rich-2:1.2.3-4', 'minimal-0.1-1', 'spaced-1.0-1.1', 'bare-1-1']) {
    test(`${name}: desc matches field by field and byte for byte`, () => {
      const mine = ours.get(name)!.desc;
      const real = theirs.db.get(name)!.desc;
      assert.deepEqual([...parseDbEntry(mine)], [...parseDbEntry(real)]);
      assert.equal(mine, real);
      // The .files db repeats the same desc.
      assert.equal(theirs.files.get(name)!.desc, real);
    });

    test(`${name}: files entry matches`, () => {
      assert.equal(ours.get(name)!.files, theirs.files.get(name)!.files);
      assert.equal(theirs.db.get(name)!.files, undefined);
    });
  }

  test('the signature, the spaces and the last-wins rule are really exercised', () => {
    const rich = parseDbEntry(ours.get('rich-2:1.2.3-4')!.desc);
    assert.equal(rich.get('PGPSIG')![0].length, Math.ceil(566 / 3) * 4);
    assert.deepEqual(rich.get('OPTDEPENDS'), ['python: for the python bindings', 'perl']);
    const spaced = parseDbEntry(ours.get('spaced-1.0-1.1')!.desc);
    assert.deepEqual(spaced.get('DESC'), ['the last one wins']);
    assert.deepEqual(spaced.get('DEPENDS'), ['foo >= 1', 'bar']);
    assert.equal(parseDbEntry(ours.get('bare-1-1')!.files).get('FILES')!.length, 0);
  });

  test('our db archives hold what repo-add\'s hold', async () => {
    const entries = [...ours].map(([name, e]) => ({ name, ...e }));
    const db = await readRepoDb(await buildRepoDb(entries, { withFiles: false }));
    const files = await readRepoDb(await buildRepoDb(entries, { withFiles: true }));
    assert.deepEqual(db, theirs.db);
    assert.deepEqual(files, theirs.files);
  });
});
