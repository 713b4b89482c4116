// Reads the core metadata file out of an uploaded distribution without unpacking
// it: METADATA from a wheel's `.dist-info`, PKG-INFO from an sdist's top directory.
// The whole archive is checked on the way, in one streaming pass: every zip member is
// inflated and its CRC-32 compared, a tar is decompressed to its end (gzip's own CRC)
// and must be well formed, so nothing is stored that pip would fail to unpack.
// Archives are untrusted, so every read is bounded: an entry that declares more
// than the limit is refused before inflating, and inflation stops as soon as the
// real bytes pass the limit (a zip header may lie about the size).
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import zlib from 'node:zlib';
import { invalidPackage, isWharfError } from '../../core/errors.ts';
import { createDecompressor, detectCompression, type Compression } from '../../lib/compression.ts';
import { tarEntryProblem, validateTar } from '../../lib/tar-integrity.ts';
import type { DistFilename } from './filename.ts';
import { normalizeName } from './names.ts';
import { normalizeVersion } from './version.ts';

export interface DistReadLimits {
  /** Largest METADATA / PKG-INFO accepted, in bytes (default 4 MiB). */
  maxMetadataBytes?: number;
  /** Most bytes inflated (all zip members) or decompressed (a tar) while checking (default 16 GiB). */
  maxScanBytes?: number;
}

export const DEFAULT_MAX_METADATA_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_SCAN_BYTES = 16 * 1024 * 1024 * 1024;

const WHEEL_METADATA_RE = /^([^/]+)\.dist-info\/METADATA$/;
const PKG_INFO_RE = /^([^/]+)\/PKG-INFO$/;

/**
 * The archive: its file, and its bytes when the upload was small enough to be kept in memory
 * while staged (then a zip is read from them, not opened three times from the disk).
 */
export interface DistSource {
  path: string;
  data?: Buffer;
}

/** The raw bytes of the distribution's METADATA (wheel) or PKG-INFO (sdist). */
export async function readDistMetadata(from: string | DistSource, dist: DistFilename, limits: DistReadLimits = {}): Promise<Buffer> {
  const source = typeof from === 'string' ? { path: from } : from;
  const path = source.path;
  const maxBytes = limits.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const maxScan = limits.maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES;
  if (dist.kind === 'wheel') return readWheelMetadata(source, dist, maxBytes, maxScan);
  if (dist.ext === '.zip') return readZipSdistMetadata(source, dist, maxBytes, maxScan);
  const compression: Compression = dist.ext === '.tar.bz2' ? 'bzip2' : 'gzip';
  return readTarSdistMetadata(path, dist, compression, maxBytes, maxScan);
}

/** Does `{name}-{version}` (a directory name) name this distribution? */
export function dirMatchesDist(dir: string, dist: DistFilename): boolean {
  const wantVersion = normalizeVersion(dist.version) ?? dist.version;
  for (let i = dir.indexOf('-'); i !== -1; i = dir.indexOf('-', i + 1)) {
    const version = dir.slice(i + 1);
    if (normalizeName(dir.slice(0, i)) === dist.normalizedName && (normalizeVersion(version) ?? version) === wantVersion) return true;
  }
  return false;
}

function tooLarge(what: string, max: number) {
  return invalidPackage(`${what} is larger than the ${max}-byte limit`);
}

/** File-system failures are ours (5xx); anything else while parsing is the archive's fault. */
function asArchiveError(err: unknown, prefix: string): unknown {
  if (isWharfError(err)) return err;
  if (err instanceof Error && 'syscall' in err) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/too many bytes in the stream/.test(message)) return invalidPackage(`${prefix}: an entry inflates to more than its declared size`);
  return invalidPackage(`${prefix}: ${message}`);
}

// ---- zip (wheels and .zip sdists) ----

/** Positional reads of a zip, from its file or its bytes in memory. */
interface ZipBytes {
  size(): Promise<number>;
  read(into: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

async function zipBytes(source: DistSource): Promise<ZipBytes> {
  const data = source.data;
  if (data) {
    return {
      size: async () => data.length,
      // A position before the start (a lying end record) reads nothing, as a file read would fail to.
      read: async (into, length, position) => (position < 0 ? 0 : data.copy(into, 0, position, Math.min(data.length, position + length))),
      close: async () => {},
    };
  }
  const fh = await open(source.path, 'r');
  return {
    size: async () => (await fh.stat()).size,
    read: async (into, length, position) => (await fh.read(into, 0, length, position)).bytesRead,
    close: () => fh.close(),
  };
}

async function withZip<T>(source: DistSource, what: string, use: (zip: yauzl.ZipFile) => Promise<T>): Promise<T> {
  let zip: yauzl.ZipFile;
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false };
  try {
    zip = await (source.data ? yauzl.fromBufferPromise(source.data, options) : yauzl.openPromise(source.path, options));
  } catch (err) {
    throw asArchiveError(err, `${what} is not a valid zip archive (truncated or corrupt)`);
  }
  try {
    return await use(zip);
  } catch (err) {
    throw asArchiveError(err, `${what} is a corrupt zip archive`);
  } finally {
    zip.close();
  }
}

/** Walk the central directory (no inflating); `visit` sees every entry. */
function eachEntry(zip: yauzl.ZipFile, visit: (entry: yauzl.Entry) => void): Promise<yauzl.Entry[]> {
  const all: yauzl.Entry[] = [];
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      all.push(entry);
      // A name flagged UTF-8 (bit 11) must be UTF-8: Python refuses to open the zip otherwise.
      if (entry.generalPurposeBitFlag & 0x800 && !isUtf8(entry.fileNameRaw)) {
        reject(invalidPackage(`a member name is flagged UTF-8 but is not valid UTF-8: ${JSON.stringify(entry.fileNameRaw.toString('latin1'))}`));
        return;
      }
      try { visit(entry); } catch (err) { reject(err); return; }
      zip.readEntry();
    });
    zip.on('end', () => resolve(all));
    zip.on('error', reject);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s)));
  });
}

/**
 * Inflate every member once, in file order, comparing its CRC-32 with the central
 * directory's, and return the bytes of `wanted` (bounded by `maxBytes`). Members must not
 * overlap (the "overlapping files" zip bomb) and their declared sizes, which yauzl holds
 * them to, must add up to at most `maxScan`.
 */
async function verifyZip(source: DistSource, zip: yauzl.ZipFile, entries: yauzl.Entry[], wanted: yauzl.Entry, what: string, maxBytes: number, maxScan: number): Promise<Buffer> {
  if (wanted.uncompressedSize > maxBytes) throw tooLarge(what, maxBytes);
  const total = entries.reduce((n, e) => n + e.uncompressedSize, 0);
  if (total > maxScan) throw invalidPackage(`the archive inflates to ${total} bytes, more than the ${maxScan}-byte limit`);
  const ordered = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  for (let i = 1; i < ordered.length; i++) {
    const prev = ordered[i - 1];
    if (prev.relativeOffsetOfLocalHeader + 30 + prev.fileNameLength + prev.compressedSize > ordered[i].relativeOffsetOfLocalHeader) {
      throw invalidPackage(`zip members ${prev.fileName} and ${ordered[i].fileName} overlap`);
    }
  }
  const bytes = await zipBytes(source);
  try {
    await checkLocalNames(bytes, ordered);
    await checkEndRecord(bytes, entries);
  } finally {
    await bytes.close();
  }
  let result: Buffer | undefined;
  for (const entry of ordered) {
    const keep = entry === wanted;
    const chunks: Buffer[] = [];
    let size = 0;
    let crc = 0;
    const stream = await openEntry(zip, entry);
    try {
      for await (const chunk of stream) {
        crc = zlib.crc32(chunk as Buffer, crc);
        if (!keep) continue;
        size += (chunk as Buffer).length;
        if (size > maxBytes) throw tooLarge(what, maxBytes);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      // yauzl's own check (validateEntrySizes) fires first when the header lies low.
      if (err instanceof Error && /too many bytes in the stream/.test(err.message)) {
        throw invalidPackage(`${keep ? what : entry.fileName} inflates to more than its declared size (${entry.uncompressedSize} bytes)`);
      }
      if (err instanceof Error && /not enough bytes in the stream/.test(err.message)) {
        throw invalidPackage(`${keep ? what : entry.fileName} inflates to less than its declared size (${entry.uncompressedSize} bytes)`);
      }
      throw err;
    } finally {
      stream.destroy();
    }
    if (crc >>> 0 !== entry.crc32 >>> 0) {
      throw invalidPackage(`member ${entry.fileName}${keep ? ` (${what})` : ''} is corrupt: its CRC-32 does not match its data`);
    }
    if (keep) result = Buffer.concat(chunks);
  }
  return result!;
}

/**
 * Each member's local header must name it as the central directory does: Python's zipfile
 * refuses a zip where they differ, while yauzl reads only the central name.
 */
async function checkLocalNames(zip: ZipBytes, entries: yauzl.Entry[]): Promise<void> {
  const head = Buffer.alloc(30);
  for (const entry of entries) {
    const bytesRead = await zip.read(head, 30, entry.relativeOffsetOfLocalHeader);
    if (bytesRead < 30 || head.readUInt32LE(0) !== 0x04034b50) throw invalidPackage(`member ${entry.fileName} has no local header where the central directory says`);
    const name = Buffer.alloc(head.readUInt16LE(26));
    await zip.read(name, name.length, entry.relativeOffsetOfLocalHeader + 30);
    if (!name.equals(entry.fileNameRaw)) throw invalidPackage(`member ${entry.fileName} is named ${JSON.stringify(name.toString('latin1'))} in its local header`);
  }
}

/**
 * The central directory must sit right before the end record and be as long as the end
 * record says. yauzl walks entries by count and ignores both; Python takes any gap for
 * data prepended to the zip and then misreads the directory ("Bad magic number").
 */
async function checkEndRecord(zip: ZipBytes, entries: yauzl.Entry[]): Promise<void> {
  const size = await zip.size();
  const tailLength = Math.min(size, 22 + 65535);
  const tail = Buffer.alloc(tailLength);
  await zip.read(tail, tailLength, size - tailLength);
  const at = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]), tailLength - 22);
  if (at < 0) throw invalidPackage('the zip has no end of central directory record');
  let endPos = size - tailLength + at;
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (cdSize === 0xffffffff || cdOffset === 0xffffffff || tail.readUInt16LE(at + 10) === 0xffff) {
    // Zip64: the locator just before the end record points at the zip64 end record.
    const locator = Buffer.alloc(20);
    await zip.read(locator, 20, endPos - 20);
    if (locator.readUInt32LE(0) !== 0x07064b50) throw invalidPackage('the zip64 end record locator is missing');
    endPos = Number(locator.readBigUInt64LE(8));
    const record = Buffer.alloc(56);
    await zip.read(record, 56, endPos);
    if (record.readUInt32LE(0) !== 0x06064b50) throw invalidPackage('the zip64 end record is missing');
    cdSize = Number(record.readBigUInt64LE(40));
    cdOffset = Number(record.readBigUInt64LE(48));
  }
  const listed = entries.reduce((n, e) => n + 46 + e.fileNameLength + e.extraFieldLength + e.fileCommentLength, 0);
  if (cdOffset + cdSize !== endPos || listed !== cdSize) {
    throw invalidPackage(`the zip's end record disagrees with its central directory (${cdSize} bytes at ${cdOffset}, ${listed} bytes listed, end record at ${endPos})`);
  }
}

async function readWheelMetadata(source: DistSource, dist: DistFilename, maxBytes: number, maxScan: number): Promise<Buffer> {
  return withZip(source, 'wheel', async (zip) => {
    const distInfoDirs = new Set<string>();
    const metadata: yauzl.Entry[] = [];
    const entries = await eachEntry(zip, (entry) => {
      const top = entry.fileName.split('/')[0];
      if (top.endsWith('.dist-info') && entry.fileName.length > top.length) distInfoDirs.add(top);
      if (WHEEL_METADATA_RE.test(entry.fileName)) metadata.push(entry);
    });
    if (distInfoDirs.size > 1) throw invalidPackage(`wheel has more than one .dist-info directory: ${[...distInfoDirs].sort().join(', ')}`);
    if (metadata.length === 0) throw invalidPackage('wheel has no .dist-info/METADATA');
    if (metadata.length > 1) throw invalidPackage(`wheel has ${metadata.length} entries named ${metadata[0].fileName}`);
    const dir = WHEEL_METADATA_RE.exec(metadata[0].fileName)![1];
    if (!dirMatchesDist(dir, dist)) {
      throw invalidPackage(`wheel's ${dir}.dist-info directory does not match its filename (${dist.name} ${dist.version})`);
    }
    return verifyZip(source, zip, entries, metadata[0], 'METADATA', maxBytes, maxScan);
  });
}

async function readZipSdistMetadata(source: DistSource, dist: DistFilename, maxBytes: number, maxScan: number): Promise<Buffer> {
  return withZip(source, 'sdist', async (zip) => {
    const found: yauzl.Entry[] = [];
    const entries = await eachEntry(zip, (entry) => { if (PKG_INFO_RE.test(entry.fileName)) found.push(entry); });
    const entry = pickPkgInfo(found.map((e) => ({ dir: PKG_INFO_RE.exec(e.fileName)![1], value: e })), dist);
    return verifyZip(source, zip, entries, entry, 'PKG-INFO', maxBytes, maxScan);
  });
}

/** One PKG-INFO at depth 1; with several top directories, the one named after the dist. */
function pickPkgInfo<T>(found: { dir: string; value: T }[], dist: DistFilename): T {
  if (found.length === 0) throw invalidPackage(`sdist has no PKG-INFO in its top directory (expected ${dist.name}-${dist.version}/PKG-INFO)`);
  if (found.length === 1) return found[0].value;
  const matching = found.filter((f) => dirMatchesDist(f.dir, dist));
  if (matching.length === 1) return matching[0].value;
  throw invalidPackage(`sdist has ${found.length} top-level PKG-INFO files and none is clearly ${dist.name}-${dist.version}/PKG-INFO`);
}

// ---- tar (.tar.gz, .tgz, .tar.bz2 sdists) ----

async function readTarSdistMetadata(path: string, dist: DistFilename, compression: Compression, maxBytes: number, maxScan: number): Promise<Buffer> {
  const kind = compression === 'bzip2' ? 'bzip2' : 'gzip';
  // Check the magic first for a clear message (bzip2's own complaint is less so).
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (detectCompression(head) !== compression) throw invalidPackage(`sdist is not a valid ${kind}-compressed tar (its first bytes are not ${kind}'s)`);
  const source = createReadStream(path);
  const decompress = createDecompressor(compression);
  let scanned = 0;
  const budget = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      scanned += chunk.length;
      if (scanned > maxScan) cb(invalidPackage(`sdist decompresses to more than ${maxScan} bytes`));
      else cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const piped = pipeline(source, decompress, budget, validateTar(), extract);
  piped.catch(() => {}); // its error also reaches the loop below through `extract`

  // Every depth-1 PKG-INFO; the archive is read to its end so its integrity is known.
  const found: { dir: string; value: Buffer }[] = [];
  try {
    for await (const entry of extract) {
      const problem = tarEntryProblem(entry.header);
      if (problem) throw invalidPackage(`sdist is not a valid tar archive: ${problem}`);
      const name = entry.header.name.replace(/^(\.\/)+/, '');
      const m = PKG_INFO_RE.exec(name);
      const isFile = entry.header.type === 'file' || entry.header.type === 'contiguous-file';
      if (!m || !isFile) { entry.resume(); continue; }
      if ((entry.header.size ?? 0) > maxBytes) throw tooLarge('PKG-INFO', maxBytes);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) throw tooLarge('PKG-INFO', maxBytes);
        chunks.push(chunk as Buffer);
      }
      found.push({ dir: m[1], value: Buffer.concat(chunks) });
    }
    await piped;
  } catch (err) {
    throw asTarError(err, kind);
  } finally {
    source.destroy();
    decompress.destroy();
    extract.destroy();
  }
  return pickPkgInfo(found, dist);
}

function asTarError(err: unknown, kind: 'gzip' | 'bzip2'): unknown {
  if (isWharfError(err) || (err instanceof Error && 'syscall' in err)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return asArchiveError(err, 'sdist is not a valid gzip-compressed tar (truncated or corrupt)');
  if (kind === 'bzip2' && err instanceof Error && /^bzip2 failed/.test(err.message)) return asArchiveError(err, 'sdist is not a valid bzip2-compressed tar');
  return asArchiveError(err, 'sdist is not a valid tar archive');
}
