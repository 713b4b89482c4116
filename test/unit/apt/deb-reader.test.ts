import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, truncate, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { collect } from '../../../src/lib/compression.ts';
import { listArMembers, openArMember, readArStream } from '../../../src/formats/apt/ar.ts';
import { readDeb as readDebFromFile, type ReadDebOptions } from '../../../src/formats/apt/deb-reader.ts';
import { buildDeb, makeAr, makeTar, tempDir } from './helpers.ts';

/**
 * Every case reads the package twice: from its file, and from memory as a small upload is
 * (`data`). Both must give the same result, or refuse with the same message.
 */
async function readDeb(file: string, opts: ReadDebOptions = {}) {
  const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: Error) => ({ error }));
  const fromFile = await settle(readDebFromFile(file, opts));
  const fromMemory = await settle(readDebFromFile(file, { ...opts, data: await readFile(file) }));
  if ('error' in fromFile) {
    assert.ok('error' in fromMemory, `read from memory, ${path.basename(file)} was accepted, but refused from its file: ${fromFile.error.message}`);
    assert.equal(fromMemory.error.message, fromFile.error.message);
    assert.equal(isWharfError(fromMemory.error), isWharfError(fromFile.error));
    throw fromFile.error;
  }
  assert.ok(!('error' in fromMemory), `read from memory, ${path.basename(file)} was refused: ${'error' in fromMemory ? fromMemory.error.message : ''}`);
  assert.deepEqual(fromMemory.value, fromFile.value);
  return fromFile.value;
}

const CONTROL = [
  'Package: hello-wharf',
  'Source: hello-src (1.0-1)',
  'Version: 1:1.0~rc1-2',
  'Architecture: amd64',
  'Maintainer: Test <t@example.com>',
  'Installed-Size: 12',
  'Depends: libc6 (>= 2.3)',
  'X-Odd-Field: some value',
  'Description: a test package',
  ' Longer text.',
  ' .',
  ' More.',
  '',
].join('\n');

const FILES = { 'usr/bin/hello': '#!/bin/sh\necho hi\n', 'usr/share/doc/hello-wharf/README': 'hello\n' };

const invalid = (pattern: RegExp) => (err: unknown) => {
  assert.ok(isWharfError(err), `expected a WharfError, got ${String(err)}`);
  assert.equal(err.code, 'INVALID_PACKAGE');
  assert.match(err.message, pattern);
  return true;
};

for (const compression of ['gzip', 'xz', 'zstd', 'none'] as const) {
  test(`reads control and file list of a dpkg-deb -Z${compression} package`, async (t) => {
    const dir = await tempDir(t);
    const deb = await buildDeb(dir, `hello-${compression}`, {
      control: CONTROL,
      files: FILES,
      symlinks: { 'usr/bin/hi': 'hello' },
      compression,
    });
    const info = await readDeb(deb, { listFiles: true });
    assert.equal(info.control, CONTROL);
    assert.equal(info.name, 'hello-wharf');
    assert.equal(info.version, '1:1.0~rc1-2');
    assert.equal(info.architecture, 'amd64');
    assert.equal(info.source, 'hello-src');
    assert.equal(info.fields.get('x-odd-field'), 'some value');
    assert.equal(info.fields.get('Description'), 'a test package\nLonger text.\n\nMore.');
    assert.equal(info.controlCompression, compression);
    assert.equal(info.dataCompression, compression);
    // dpkg-deb's own listing, without directories, is the reference.
    const listing = execFileSync('dpkg-deb', ['--fsys-tarfile', deb]);
    const expected = execFileSync('tar', ['-tvf', '-'], { input: listing, encoding: 'utf8' })
      .trim().split('\n').filter((l) => !l.startsWith('d'))
      .map((l) => l.replace(/^.*? \d\d:\d\d(:\d\d)? /, '').replace(/ -> .*$/, '').replace(/^\.\//, ''));
    assert.deepEqual([...info.files!].sort(), expected.sort());
    assert.deepEqual([...info.files!].sort(), ['usr/bin/hello', 'usr/bin/hi', 'usr/share/doc/hello-wharf/README']);
  });
}

test('without listFiles the data member is not listed', async (t) => {
  const dir = await tempDir(t);
  const deb = await buildDeb(dir, 'x', { control: CONTROL, files: FILES });
  const info = await readDeb(deb);
  assert.equal(info.files, undefined);
});

test('garbage, empty and non-deb ar files are refused', async (t) => {
  const dir = await tempDir(t);
  const garbage = path.join(dir, 'garbage.deb');
  await writeFile(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  await assert.rejects(readDeb(garbage), invalid(/not an ar archive/));
  const empty = path.join(dir, 'empty.deb');
  await writeFile(empty, '');
  await assert.rejects(readDeb(empty), invalid(/not an ar archive/));
  const badHeader = path.join(dir, 'bad-header.deb');
  await writeFile(badHeader, Buffer.concat([Buffer.from('!<arch>\n'), Buffer.alloc(60, 0x41)]));
  await assert.rejects(readDeb(badHeader), invalid(/bad member header/));
  const onlyMagic = path.join(dir, 'magic.deb');
  await writeFile(onlyMagic, '!<arch>\n');
  await assert.rejects(readDeb(onlyMagic), invalid(/ar archive has no members/));
});

test('a truncated .deb is refused wherever it is cut', async (t) => {
  const dir = await tempDir(t);
  const deb = await buildDeb(dir, 'full', { control: CONTROL, files: { 'usr/share/big': 'x'.repeat(50_000) }, compression: 'none' });
  const size = (await readFile(deb)).length;
  for (const cut of [4, 8, 30, 68, 80, 200, 1000, Math.floor(size / 2), size - 2]) {
    const copy = path.join(dir, `cut-${cut}.deb`);
    await copyFile(deb, copy);
    await truncate(copy, cut);
    await assert.rejects(readDeb(copy, { listFiles: true }), invalid(/not an ar archive|truncated|corrupt|partial|unexpected end/i), `cut at ${cut}`);
  }
});

test('a corrupt compressed control member is refused', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'corrupt.deb');
  const gz = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('definitely not deflate data')]);
  await writeFile(file, makeAr([{ name: 'debian-binary', data: '2.0\n' }, { name: 'control.tar.gz', data: gz }, { name: 'data.tar', data: Buffer.alloc(1024) }]));
  await assert.rejects(readDeb(file), invalid(/control.tar.gz is corrupt/));
  const xz = path.join(dir, 'corrupt-xz.deb');
  await writeFile(xz, makeAr([{ name: 'debian-binary', data: '2.0\n' }, { name: 'control.tar.xz', data: Buffer.from('not xz at all') }, { name: 'data.tar', data: Buffer.alloc(1024) }]));
  await assert.rejects(readDeb(xz), invalid(/control.tar.xz is corrupt/));
});

test('member layout rules of dpkg-deb', async (t) => {
  const dir = await tempDir(t);
  const control = await makeTar(dir, { control: 'Package: a1\nVersion: 1\nArchitecture: all\n' });
  const data = await makeTar(dir, { 'usr/x': 'x' });
  const cases: [string, { name: string; data: Buffer | string }[], RegExp][] = [
    ['missing debian-binary', [{ name: 'control.tar.gz', data: control }, { name: 'data.tar.gz', data }], /first ar member must be debian-binary/],
    ['format 3.0', [{ name: 'debian-binary', data: '3.0\n' }, { name: 'control.tar.gz', data: control }, { name: 'data.tar.gz', data }], /unsupported .deb format version/],
    ['no control', [{ name: 'debian-binary', data: '2.0\n' }, { name: 'data.tar.gz', data }], /data.tar.gz before its control member/],
    ['no data', [{ name: 'debian-binary', data: '2.0\n' }, { name: 'control.tar.gz', data: control }], /no data.tar member/],
    ['odd control compression', [{ name: 'debian-binary', data: '2.0\n' }, { name: 'control.tar.bz2', data: control }, { name: 'data.tar.gz', data }], /unknown compression for control.tar.bz2/],
    ['unknown member', [{ name: 'debian-binary', data: '2.0\n' }, { name: 'evil', data: 'x' }, { name: 'control.tar.gz', data: control }, { name: 'data.tar.gz', data }], /unexpected member evil/],
  ];
  for (const [label, members, pattern] of cases) {
    const file = path.join(dir, `${label.replace(/\W/g, '-')}.deb`);
    await writeFile(file, makeAr(members));
    await assert.rejects(readDeb(file), invalid(pattern), label);
  }
  // Members starting with "_" are ignored, and so is anything after data.tar, as in dpkg.
  const ok = path.join(dir, 'ok.deb');
  await writeFile(ok, makeAr([
    { name: 'debian-binary', data: '2.0\n' }, { name: '_gpgorigin', data: 'sig' },
    { name: 'control.tar.gz', data: control }, { name: 'data.tar.gz', data }, { name: 'trailer', data: 'x' },
  ]));
  const info = await readDeb(ok, { listFiles: true });
  assert.equal(info.name, 'a1');
  assert.deepEqual(info.files, ['usr/x']);
});

test('control problems are named clearly', async (t) => {
  const dir = await tempDir(t);
  const cases: [string, RegExp][] = [
    ['Version: 1.0\nArchitecture: all\nDescription: x\n', /no Package field/],
    ['Package: abc\nArchitecture: all\nDescription: x\n', /no Version field/],
    ['Package: abc\nVersion: 1.0\nDescription: x\n', /no Architecture field/],
    ['Package: Hello\nVersion: 1.0\nArchitecture: all\n', /invalid package name "Hello"/],
    ['Package: a\nVersion: 1.0\nArchitecture: all\n', /invalid package name "a"/],
    ['Package: abc_d\nVersion: 1.0\nArchitecture: all\n', /invalid package name/],
    ['Package: abc\nVersion: v1.0\nArchitecture: all\n', /invalid version "v1.0": upstream version does not start with a digit/],
    ['Package: abc\nVersion: 1.0-\nArchitecture: all\n', /invalid version "1.0-": revision is empty/],
    ['Package: abc\nVersion: 1.0\nArchitecture: any\n', /invalid architecture "any"/],
    ['Package: abc\nVersion: 1.0\nArchitecture: amd64 i386\n', /invalid architecture/],
    ['Package: abc\nVersion: 1.0\nArchitecture: all\nSource: Bad_Source\n', /invalid Source field/],
    ['Package: abc\nVersion: 1.0\nArchitecture: all\nSource: src (x1)\n', /invalid version in Source field/],
    ['Package: abc\nPackage: abd\n', /duplicate field/],
  ];
  for (const [i, [control, pattern]] of cases.entries()) {
    const deb = await buildDeb(dir, `bad${i}`, { control, nocheck: true, compression: 'gzip' });
    await assert.rejects(readDeb(deb), invalid(pattern), control);
  }
  // A control.tar without a control file, and a control file that is too large.
  const noControl = path.join(dir, 'no-control.deb');
  await writeFile(noControl, makeAr([{ name: 'debian-binary', data: '2.0\n' }, { name: 'control.tar.gz', data: await makeTar(dir, { md5sums: '' }) }, { name: 'data.tar.gz', data: await makeTar(dir, {}) }]));
  await assert.rejects(readDeb(noControl), invalid(/control.tar.gz has no control file/));
  const big = await buildDeb(dir, 'big', { control: `Package: abc\nVersion: 1\nArchitecture: all\nDescription: x\n${' y\n'.repeat(2000)}` });
  await assert.rejects(readDeb(big, { maxControlSize: 1000 }), invalid(/larger than 1000 bytes/));
  assert.equal((await readDeb(big)).name, 'abc');
});

test('ar: listArMembers/openArMember and readArStream see the same members', async (t) => {
  const dir = await tempDir(t);
  const deb = await buildDeb(dir, 'ar', { control: CONTROL, files: FILES, compression: 'gzip' });
  const members = await listArMembers(deb);
  assert.deepEqual(members.map((m) => m.name), ['debian-binary', 'control.tar.gz', 'data.tar.gz']);
  assert.equal(members[0].size, 4);
  assert.equal(members[0].mode, 0o100644);
  assert.equal((await collect(openArMember(deb, members[0]))).toString(), '2.0\n');
  // `ar p` from binutils is not guaranteed; dpkg-deb --ctrl-tarfile gives the decompressed control.tar instead.
  const fromStream: { name: string; size: number; data: Buffer }[] = [];
  for await (const entry of readArStream(createReadStream(deb, { highWaterMark: 7 }))) {
    fromStream.push({ name: entry.name, size: entry.size, data: await collect(entry.stream) });
  }
  assert.deepEqual(fromStream.map((m) => [m.name, m.size]), members.map((m) => [m.name, m.size]));
  for (const [i, m] of members.entries()) assert.deepEqual(fromStream[i].data, await collect(openArMember(deb, m)));
});

test('ar: readArStream skips unread members and handles odd sizes', async () => {
  const archive = makeAr([{ name: 'a', data: 'odd' }, { name: 'b', data: Buffer.alloc(200_001, 1) }, { name: 'c', data: 'last' }]);
  const names: string[] = [];
  let last = '';
  for await (const entry of readArStream(Readable.from([archive]))) {
    names.push(entry.name);
    if (entry.name === 'b') {
      // Read a little, then abandon the member.
      for await (const _chunk of entry.stream) break;
    }
    if (entry.name === 'c') last = (await collect(entry.stream)).toString();
  }
  assert.deepEqual(names, ['a', 'b', 'c']);
  assert.equal(last, 'last');
});

test('ar: readArStream refuses garbage and truncation', async () => {
  const drain = async (bytes: Buffer) => {
    for await (const entry of readArStream(Readable.from([bytes]))) await collect(entry.stream);
  };
  await assert.rejects(drain(Buffer.from('PK\x03\x04 not an ar file at all')), invalid(/not an ar archive/));
  const archive = makeAr([{ name: 'a', data: 'x'.repeat(100) }]);
  await assert.rejects(drain(archive.subarray(0, 90)), invalid(/truncated/));
  await assert.rejects(drain(archive.subarray(0, 30)), invalid(/truncated/));
});

// Defect 12 of issue 8: the integrity of what the reader touches. control.tar and data.tar
// must decompress to their ends (gzip's CRC, xz's and zstd's checks) and be whole tars,
// however the reader is called.
test('integrity: corrupt or truncated control.tar and data.tar are refused', async (t) => {
  const dir = await tempDir(t);
  const controlTar = await makeTar(dir, { control: 'Package: a1\nVersion: 1\nArchitecture: all\n', md5sums: 'x'.repeat(20_000) }, false);
  const dataTar = await makeTar(dir, { 'usr/share/a1/one': 'one\n'.repeat(5000), 'usr/share/a1/two': 'two\n'.repeat(5000) }, false);
  const { gzipSync } = await import('node:zlib');
  const deb = async (name: string, control: Buffer, controlName: string, data: Buffer, dataName: string) => {
    const file = path.join(dir, `${name}.deb`);
    await writeFile(file, makeAr([{ name: 'debian-binary', data: '2.0\n' }, { name: controlName, data: control }, { name: dataName, data }]));
    return file;
  };
  const badCrc = (gz: Buffer) => { const b = Buffer.from(gz); b[b.length - 8] ^= 0xff; return b; };
  const good = await deb('good', gzipSync(controlTar), 'control.tar.gz', gzipSync(dataTar), 'data.tar.gz');
  assert.equal((await readDeb(good)).name, 'a1');
  assert.deepEqual((await readDeb(good, { listFiles: true })).files, ['usr/share/a1/one', 'usr/share/a1/two']);
  // Where the last entry ends: its content is not zero, the end blocks and padding are.
  let lastEntryEnd = dataTar.length;
  while (dataTar[lastEntryEnd - 1] === 0) lastEntryEnd--;
  lastEntryEnd = Math.ceil(lastEntryEnd / 512) * 512;

  const cases: [string, string, RegExp][] = [
    ['control gzip crc', await deb('c-crc', badCrc(gzipSync(controlTar)), 'control.tar.gz', gzipSync(dataTar), 'data.tar.gz'), /control\.tar\.gz is corrupt/],
    ['control cut after the control file', await deb('c-cut', gzipSync(controlTar.subarray(0, 2048)), 'control.tar.gz', gzipSync(dataTar), 'data.tar.gz'), /control\.tar\.gz is corrupt/],
    ['data gzip crc', await deb('d-crc', gzipSync(controlTar), 'control.tar.gz', badCrc(gzipSync(dataTar)), 'data.tar.gz'), /data\.tar\.gz is corrupt/],
    ['data gzip stream cut', await deb('d-gzcut', gzipSync(controlTar), 'control.tar.gz', gzipSync(dataTar).subarray(0, 200), 'data.tar.gz'), /data\.tar\.gz is corrupt/],
    ['data tar cut mid-entry', await deb('d-mid', gzipSync(controlTar), 'control.tar.gz', dataTar.subarray(0, 9000), 'data.tar'), /data\.tar is corrupt/],
    ['data tar without its end blocks', await deb('d-end', gzipSync(controlTar), 'control.tar.gz', dataTar.subarray(0, lastEntryEnd), 'data.tar'), /data\.tar is corrupt/],
  ];
  for (const [label, file, pattern] of cases) {
    await assert.rejects(readDeb(file), invalid(pattern), label);
    await assert.rejects(readDeb(file, { listFiles: true }), invalid(pattern), `${label} (listFiles)`);
  }
  // Cut anywhere, including inside the control file while it is being read (found by the
  // fuzz suite: that error escaped as a 500).
  const small = gzipSync(await makeTar(dir, { control: 'Package: a1\nVersion: 1\nArchitecture: all\n'.repeat(4), md5sums: 'x\n' }, false));
  for (let cut = 10; cut < small.length; cut += 3) {
    const file = await deb(`cut-${cut}`, small.subarray(0, cut), 'control.tar.gz', gzipSync(dataTar), 'data.tar.gz');
    await assert.rejects(readDeb(file, { listFiles: true }), invalid(/control\.tar\.gz is corrupt/), `control.tar.gz cut at ${cut}`);
  }
});

// Found by the fuzzer (seeds 1479912, 266520537): a data.tar member named `a/../../x` was
// stored, and dpkg-deb then refused the package ("Member name contains '..'").
test('integrity: a data.tar member that climbs out with .. is refused', async (t) => {
  const dir = await tempDir(t);
  const { gzipSync } = await import('node:zlib');
  const { tarOf } = await import('../../helpers/fuzz-corpus.ts');
  const controlTar = await tarOf([{ name: './control', data: 'Package: a2\nVersion: 1\nArchitecture: all\nMaintainer: x <x@example.org>\nDescription: d\n' }]);
  for (const name of ['./a/../../escape', '../escape', 'usr/../../escape']) {
    const dataTar = await tarOf([{ name: './usr/', type: 'directory' }, { name, data: 'x\n' }]);
    const file = path.join(dir, 'climb.deb');
    await writeFile(file, makeAr([{ name: 'debian-binary', data: '2.0\n' }, { name: 'control.tar.gz', data: gzipSync(controlTar) }, { name: 'data.tar.gz', data: gzipSync(dataTar) }]));
    await assert.rejects(readDeb(file, { listFiles: true }), /climbs out of the archive/, name);
  }
});
