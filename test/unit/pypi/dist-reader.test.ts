import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { parseCoreMetadata } from '../../../src/formats/pypi/core-metadata.ts';
import { readDistMetadata, type DistReadLimits } from '../../../src/formats/pypi/dist-reader.ts';
import { parseDistFilename } from '../../../src/formats/pypi/filename.ts';
import { compressBuffer } from '../../../src/lib/compression.ts';
import { buildSdist, buildWheel, coreMetadataText, sdistFilename, tarball, tarGz, wheelFilename } from '../../helpers/python-dists.ts';
import { buildZip, deflatedZeros } from '../../helpers/zip.ts';

let dir: string;
before(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-pypi-reader-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function put(filename: string, data: Buffer): Promise<string> {
  const p = path.join(dir, filename);
  await writeFile(p, data);
  return p;
}

/**
 * Reads from the file and from its bytes in memory (a small upload kept while staged); both
 * must give the same METADATA or fail with the same error.
 */
async function read(filename: string, data: Buffer, limits?: DistReadLimits): Promise<Buffer> {
  const file = await put(filename, data);
  const dist = parseDistFilename(filename);
  const settle = (p: Promise<Buffer>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
  const fromFile = await settle(readDistMetadata(file, dist, limits));
  const fromMemory = await settle(readDistMetadata({ path: file, data }, dist, limits));
  if ('error' in fromFile) {
    assert.ok('error' in fromMemory, `read from the file failed (${String(fromFile.error)}) but from memory it did not`);
    assert.equal(String(fromMemory.error), String(fromFile.error));
    throw fromFile.error;
  }
  assert.ok('value' in fromMemory, `read from memory failed: ${'error' in fromMemory ? String(fromMemory.error) : ''}`);
  assert.deepEqual(fromMemory.value, fromFile.value);
  return fromFile.value;
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isWharfError(err), `expected a WharfError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_PACKAGE');
    assert.match(err.message, pattern);
    return true;
  });
}

const demo = { name: 'Demo.Pkg', version: '1.2.0', summary: 'demo', requiresDist: ['attrs>=22'], requiresPython: '>=3.8', description: '# Hello\n' };

test('reads METADATA from a wheel the helper built, and Python agrees the zip is sound', async () => {
  const filename = wheelFilename(demo);
  assert.equal(filename, 'demo_pkg-1.2.0-py3-none-any.whl');
  const wheel = buildWheel(demo);
  const bytes = await read(filename, wheel);
  assert.equal(bytes.toString('utf8'), coreMetadataText(demo));
  const m = parseCoreMetadata(bytes);
  assert.deepEqual([m.name, m.version, m.requiresDist, m.requiresPython, m.description], ['Demo.Pkg', '1.2.0', ['attrs>=22'], '>=3.8', '# Hello\n']);

  const p = path.join(dir, filename);
  const out = execFileSync('/usr/bin/python3', ['-c', [
    'import sys, zipfile, hashlib, base64',
    'z = zipfile.ZipFile(sys.argv[1])',
    'assert z.testzip() is None',
    'record = z.read("demo_pkg-1.2.0.dist-info/RECORD").decode().splitlines()',
    'for line in record:',
    '    name, digest, size = line.rsplit(",", 2)',
    '    if not digest: continue',
    '    data = z.read(name)',
    '    assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), name',
    '    assert int(size) == len(data), name',
    'print(sorted(z.namelist()))',
  ].join('\n'), p], { encoding: 'utf8' });
  assert.equal(out.trim(), "['demo_pkg-1.2.0.dist-info/METADATA', 'demo_pkg-1.2.0.dist-info/RECORD', 'demo_pkg-1.2.0.dist-info/WHEEL', 'demo_pkg/__init__.py']");
});

test('reads PKG-INFO from .tar.gz, .tgz, .zip and .tar.bz2 sdists', async () => {
  const gz = await buildSdist(demo);
  assert.equal((await read(sdistFilename(demo), gz)).toString(), coreMetadataText(demo));
  assert.equal((await read('demo_pkg-1.2.0.tgz', gz)).toString(), coreMetadataText(demo));
  const zip = await buildSdist({ ...demo, format: 'zip' });
  assert.equal(sdistFilename({ ...demo, format: 'zip' }), 'demo_pkg-1.2.0.zip');
  assert.equal((await read('demo_pkg-1.2.0.zip', zip)).toString(), coreMetadataText(demo));
  const bz2 = await compressBuffer('bzip2', zlib.gunzipSync(gz));
  assert.equal((await read('demo_pkg-1.2.0.tar.bz2', bz2)).toString(), coreMetadataText(demo));
});

test('sdists: legacy top directory, ./ prefixes, several top directories, nested PKG-INFO', async () => {
  const legacy = await buildSdist({ ...demo, baseDir: 'Demo.Pkg-1.2.0', metadataOverride: 'legacy' });
  assert.equal((await read('Demo.Pkg-1.2.0.tar.gz', legacy)).toString(), 'legacy');
  const dotted = await tarGz([{ name: './demo_pkg-1.2.0/PKG-INFO', data: 'dotted' }]);
  assert.equal((await read('demo_pkg-1.2.0.tar.gz', dotted)).toString(), 'dotted');
  const two = await tarGz([
    { name: 'other-9/PKG-INFO', data: 'other' },
    { name: 'demo_pkg-1.2.0/PKG-INFO', data: 'mine' },
  ]);
  assert.equal((await read('demo_pkg-1.2.0.tar.gz', two)).toString(), 'mine');
  const ambiguous = await tarGz([{ name: 'a-1/PKG-INFO', data: 'a' }, { name: 'b-1/PKG-INFO', data: 'b' }]);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', ambiguous), /2 top-level PKG-INFO/);
  const nested = await tarGz([{ name: 'demo_pkg-1.2.0/demo_pkg.egg-info/PKG-INFO', data: 'x' }]);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', nested), /no PKG-INFO in its top directory/);
  const nestedZip = buildZip([{ name: 'demo_pkg-1.2.0/sub/PKG-INFO', data: 'x' }]);
  await rejectsWith(read('demo_pkg-1.2.0.zip', nestedZip), /no PKG-INFO in its top directory/);
});

test('wheel structure errors', async () => {
  await rejectsWith(read(wheelFilename(demo), buildWheel({ ...demo, omitMetadata: true })), /no \.dist-info\/METADATA/);
  const twoDirs = buildWheel({ ...demo, extraFiles: { 'other-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\n' } });
  await rejectsWith(read(wheelFilename(demo), twoDirs), /more than one \.dist-info directory: demo_pkg-1\.2\.0\.dist-info, other-1\.0\.dist-info/);
  await rejectsWith(read('other-1.2.0-py3-none-any.whl', buildWheel(demo)), /demo_pkg-1\.2\.0\.dist-info directory does not match its filename \(other 1\.2\.0\)/);
  await rejectsWith(read('demo_pkg-1.3-py3-none-any.whl', buildWheel(demo)), /does not match its filename/);
  // Name and version compare after normalisation.
  const wheel = buildWheel({ ...demo, version: '1.0.0-RC1' });
  assert.ok((await read('DEMO.pkg-1.0.0rc1-py3-none-any.whl', wheel)).length > 0);
  const dup = buildZip([{ name: 'x-1.dist-info/METADATA', data: 'a' }, { name: 'x-1.dist-info/METADATA', data: 'b' }]);
  await rejectsWith(read('x-1-py3-none-any.whl', dup), /2 entries named x-1\.dist-info\/METADATA/);
  const evil = buildZip([{ name: '../evil.py', data: 'x' }, { name: 'x-1.dist-info/METADATA', data: 'a' }]);
  await rejectsWith(read('x-1-py3-none-any.whl', evil), /corrupt zip archive: invalid relative path/);
});

test('truncated and non-zip wheels', async () => {
  const wheel = buildWheel(demo);
  await rejectsWith(read(wheelFilename(demo), wheel.subarray(0, Math.floor(wheel.length / 2))), /not a valid zip archive \(truncated or corrupt\)/);
  await rejectsWith(read(wheelFilename(demo), Buffer.from('this is not a zip file at all')), /not a valid zip archive/);
  await rejectsWith(read(wheelFilename(demo), Buffer.alloc(0)), /not a valid zip archive/);
  // Central directory intact but the entry data cut short: the reader must fail cleanly.
  const body = buildZip([{ name: 'demo_pkg-1.2.0.dist-info/METADATA', data: 'Metadata-Version: 2.1\n'.repeat(50), method: 'store' }]);
  const cut = Buffer.concat([body.subarray(0, 60), Buffer.alloc(body.length - 60)]);
  await rejectsWith(read(wheelFilename(demo), cut), /zip/);
});

test('a METADATA entry that declares more than the limit is refused without inflating it', async () => {
  // The data is not deflate at all: inflating it would fail with a zlib error instead.
  const zip = buildZip([{ name: 'demo_pkg-1.2.0.dist-info/METADATA', raw: Buffer.from('not deflate data'), declaredUncompressedSize: 5 * 1024 * 1024 }]);
  await rejectsWith(read(wheelFilename(demo), zip), /METADATA is larger than the 4194304-byte limit/);
  const small = buildZip([{ name: 'demo_pkg-1.2.0.dist-info/METADATA', data: 'x'.repeat(2000) }]);
  await rejectsWith(read(wheelFilename(demo), small, { maxMetadataBytes: 1000 }), /larger than the 1000-byte limit/);
});

test('a zip bomb that lies about its size stops inflating at the limit', async () => {
  // 256 MiB of zeros in ~260 KB, then bytes that are not deflate: reaching them would
  // raise a zlib error, so the size error proves inflation stopped early.
  const raw = Buffer.concat([deflatedZeros(256 * 1024 * 1024, { final: false }), Buffer.alloc(64, 0xff)]);
  assert.ok(raw.length < 400_000);
  for (const declared of [100, 4 * 1024 * 1024]) {
    const zip = buildZip([{ name: 'demo_pkg-1.2.0.dist-info/METADATA', raw, declaredUncompressedSize: declared, crc32: 0 }]);
    const started = Date.now();
    await rejectsWith(read(wheelFilename(demo), zip), /METADATA is larger than the 4194304-byte limit|METADATA inflates to more than its declared size \((100|4194304) bytes\)/);
    assert.ok(Date.now() - started < 5000, 'took too long: inflated too much?');
  }
  // The same bomb with an honest final block inflates to 256 MiB: refused by its header.
  const honest = buildZip([{ name: 'demo_pkg-1.2.0.dist-info/METADATA', raw: deflatedZeros(256 * 1024 * 1024), declaredUncompressedSize: 256 * 1024 * 1024 }]);
  await rejectsWith(read(wheelFilename(demo), honest), /larger than the 4194304-byte limit/);
});

test('sdist archive errors', async () => {
  const tar = await tarball([{ name: 'demo_pkg-1.2.0/PKG-INFO', data: 'x' }]);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', tar), /not a valid gzip-compressed tar/);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', zlib.gzipSync('just some text, not a tar archive '.repeat(40))), /not a valid tar archive/);
  const gz = await buildSdist(demo);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', gz.subarray(0, 40)), /not a valid gzip-compressed tar/);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', await tarGz([{ name: 'demo_pkg-1.2.0/setup.py', data: '' }])), /no PKG-INFO in its top directory \(expected demo_pkg-1\.2\.0\/PKG-INFO\)/);
  await rejectsWith(read('demo_pkg-1.2.0.tar.bz2', gz), /not a valid bzip2-compressed tar/);
  // A cut bzip2 stream yields no output before bzip2 fails: that must not read as "no PKG-INFO".
  const bz2 = await compressBuffer('bzip2', zlib.gunzipSync(gz));
  await rejectsWith(read('demo_pkg-1.2.0.tar.bz2', bz2.subarray(0, bz2.length - 20)), /not a valid bzip2-compressed tar: bzip2 failed .*ends unexpectedly/);
  await rejectsWith(read('demo_pkg-1.2.0.zip', gz), /not a valid zip archive/);
  const big = await tarGz([{ name: 'demo_pkg-1.2.0/PKG-INFO', data: Buffer.alloc(5 * 1024 * 1024, 'a') }]);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', big), /PKG-INFO is larger than the 4194304-byte limit/);
  const bigZip = await buildSdist({ ...demo, format: 'zip', metadataOverride: 'a'.repeat(3000) });
  await rejectsWith(read('demo_pkg-1.2.0.zip', bigZip, { maxMetadataBytes: 2048 }), /PKG-INFO is larger than the 2048-byte limit/);
});

test('an sdist scan stops at maxScanBytes of decompressed tar', async () => {
  const padded = await tarGz([
    { name: 'demo_pkg-1.2.0/data.bin', data: Buffer.alloc(3 * 1024 * 1024) },
    { name: 'demo_pkg-1.2.0/PKG-INFO', data: 'late' },
  ]);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', padded, { maxScanBytes: 1024 * 1024 }), /decompresses to more than 1048576 bytes/);
  assert.equal((await read('demo_pkg-1.2.0.tar.gz', padded)).toString(), 'late');
});

test('a missing file is an I/O error, not a client error', async () => {
  await assert.rejects(readDistMetadata(path.join(dir, 'nope.whl'), parseDistFilename('nope-1-py3-none-any.whl')), (err: unknown) => !isWharfError(err) && (err as NodeJS.ErrnoException).code === 'ENOENT');
  await assert.rejects(readDistMetadata(path.join(dir, 'nope.tar.gz'), parseDistFilename('nope-1.tar.gz')), (err: unknown) => !isWharfError(err) && (err as NodeJS.ErrnoException).code === 'ENOENT');
});

// Defect 12 of issue 8: a wheel whose member fails its CRC was stored, and pip then failed
// with BadZipFile. Every member of a zip is inflated and checked, and a tar sdist is read to
// its end (gzip's CRC and length, the tar's structure), not only up to its PKG-INFO.
test('integrity: a zip member whose bytes do not match its CRC-32 is refused (wheels and zip sdists)', async () => {
  const meta = { name: 'demo_pkg-1.2.0.dist-info/METADATA', data: coreMetadataText(demo) };
  const module = 'print("hello")\n'.repeat(50);
  // A lying CRC on a member that is not METADATA, deflated and stored.
  for (const method of ['deflate', 'store'] as const) {
    const zip = buildZip([meta, { name: 'demo_pkg/__init__.py', data: module, method, crc32: 0x12345678 }]);
    await rejectsWith(read(wheelFilename(demo), zip), /demo_pkg\/__init__\.py.*CRC-32|CRC-32.*demo_pkg\/__init__\.py/);
  }
  // A flipped byte in a stored member's data (headers intact).
  const honest = buildZip([meta, { name: 'demo_pkg/__init__.py', data: module, method: 'store' }]);
  assert.ok((await read(wheelFilename(demo), honest)).length > 0);
  const flipped = Buffer.from(honest);
  flipped[honest.indexOf('print("hello")') + 3] ^= 0x01;
  await rejectsWith(read(wheelFilename(demo), flipped), /CRC-32/);
  // METADATA itself.
  await rejectsWith(read(wheelFilename(demo), buildZip([{ ...meta, crc32: 1 }])), /METADATA.*CRC-32|CRC-32.*METADATA/);
  // Zip sdists too.
  const sdist = buildZip([{ name: 'demo_pkg-1.2.0/PKG-INFO', data: coreMetadataText(demo) }, { name: 'demo_pkg-1.2.0/setup.py', data: module, crc32: 7 }]);
  await rejectsWith(read('demo_pkg-1.2.0.zip', sdist), /CRC-32/);
  // Python agrees these are broken: zipfile.testzip names the member.
  const py = execFileSync('python3', ['-c', 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())', await put('flipped.whl', flipped)], { encoding: 'utf8' });
  assert.equal(py.trim(), 'demo_pkg/__init__.py');
});

test('integrity: a .tar.gz sdist is read to its end: gzip CRC, truncation, tar structure', async () => {
  const files = [
    { name: 'demo_pkg-1.2.0/PKG-INFO', data: coreMetadataText(demo) },
    { name: 'demo_pkg-1.2.0/big.txt', data: Buffer.from('0123456789abcdef'.repeat(8192)) },
  ];
  const tarBytes = await tarball(files);
  const gz = zlib.gzipSync(tarBytes);
  assert.ok((await read('demo_pkg-1.2.0.tar.gz', gz)).length > 0);
  // The gzip trailer's CRC-32 (the 8th to 5th last bytes) no longer matches.
  const badCrc = Buffer.from(gz);
  badCrc[gz.length - 8] ^= 0xff;
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', badCrc), /not a valid gzip-compressed tar/);
  // Cut after PKG-INFO: the gzip stream ends early.
  for (const cut of [gz.length - 4, Math.floor(gz.length * 0.8)]) {
    await rejectsWith(read('demo_pkg-1.2.0.tar.gz', gz.subarray(0, cut)), /not a valid gzip-compressed tar/);
  }
  // A tar cut inside big.txt, then gzipped properly: the tar ends mid-entry.
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', zlib.gzipSync(tarBytes.subarray(0, 4096))), /not a valid tar archive/);
  // A tar cut at an entry boundary has lost its end-of-archive blocks (and maybe entries).
  const boundary = 512 + 512 + 512 + 512 * Math.ceil(files[1].data.length / 512);
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', zlib.gzipSync(tarBytes.subarray(0, boundary))), /end-of-archive/);
  // A header that claims more bytes than the archive holds.
  const lying = Buffer.from(tarBytes);
  const second = 512 + 512 * Math.ceil(Buffer.byteLength(files[0].data) / 512);
  lying.write('77777777777\0', second + 124, 'latin1');
  lying.fill(0x20, second + 148, second + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += lying[second + i];
  lying.write(`${sum.toString(8).padStart(6, '0')}\0 `, second + 148, 'latin1');
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', zlib.gzipSync(lying)), /not a valid tar archive/);
});

test('integrity: a member name flagged UTF-8 that is not UTF-8 is refused (Python cannot open the zip)', async () => {
  const meta = { name: 'demo_pkg-1.2.0.dist-info/METADATA', data: coreMetadataText(demo) };
  const zip = buildZip([meta, { name: 'demo_pkg/x.py', data: 'x = 1\n' }]);
  const bad = Buffer.from(zip);
  for (let at = bad.indexOf('demo_pkg/x.py'); at >= 0; at = bad.indexOf('demo_pkg/x.py', at + 1)) bad[at + 9] = 0xff;
  await rejectsWith(read(wheelFilename(demo), bad), /not valid UTF-8/);
  const py = spawnSync('python3', ['-c', 'import sys, zipfile; sys.exit(1 if zipfile.ZipFile(sys.argv[1]).testzip() else 0)', await put('badname.whl', bad)], { encoding: 'utf8' });
  assert.notEqual(py.status, 0, 'Python opens it: the test no longer shows the problem');
  // Only the local header's copy of the name changed (found by the fuzz suite): yauzl reads the
  // central directory alone, Python compares both.
  const local = Buffer.from(zip);
  local[local.indexOf('demo_pkg/x.py') + 9] = 0x79;
  await rejectsWith(read(wheelFilename(demo), local), /named "demo_pkg\/y\.py" in its local header/);
  const py2 = spawnSync('python3', ['-c', 'import sys, zipfile; sys.exit(1 if zipfile.ZipFile(sys.argv[1]).testzip() else 0)', await put('localname.whl', local)], { encoding: 'utf8' });
  assert.notEqual(py2.status, 0, 'Python opens it: the test no longer shows the problem');
});

test('integrity: an end record whose central directory size lies is refused (found by the fuzz suite)', async () => {
  const zip = buildZip([{ name: 'demo_pkg-1.2.0.dist-info/METADATA', data: coreMetadataText(demo) }, { name: 'demo_pkg/x.py', data: 'x = 1\n' }]);
  const lying = Buffer.from(zip);
  lying.writeUInt32LE(lying.readUInt32LE(lying.length - 10) + 1, lying.length - 10);
  await rejectsWith(read(wheelFilename(demo), lying), /end record disagrees with its central directory/);
  const py = spawnSync('python3', ['-c', 'import sys, zipfile; sys.exit(1 if zipfile.ZipFile(sys.argv[1]).testzip() else 0)', await put('cdsize.whl', lying)], { encoding: 'utf8' });
  assert.notEqual(py.status, 0, 'Python opens it: the test no longer shows the problem');
});

test('integrity: a tar entry without data that claims a size is refused (readers disagree on it)', async () => {
  const tarBytes = await tarball([{ name: 'demo_pkg-1.2.0/PKG-INFO', data: coreMetadataText(demo) }, { name: 'demo_pkg-1.2.0/x.py', data: 'x = 1\n' }]);
  // Turn the second entry into a directory that keeps its size (and fix the checksum).
  const h = 512 + 512 * Math.ceil(Buffer.byteLength(coreMetadataText(demo)) / 512);
  const bad = Buffer.from(tarBytes);
  bad.write('5', h + 156, 'latin1');
  bad.fill(0x20, h + 148, h + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += bad[h + i];
  bad.write(`${sum.toString(8).padStart(6, '0')}\0 `, h + 148, 'latin1');
  await rejectsWith(read('demo_pkg-1.2.0.tar.gz', zlib.gzipSync(bad)), /claims 6 bytes of data/);
});
