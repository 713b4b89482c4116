// Reads the core metadata file out of an uploaded distribution without unpacking
// it: METADATA from a wheel's `.dist-info`, PKG-INFO from an sdist's top directory.
// Archives are untrusted, so every read is bounded: an entry that declares more
// than the limit is refused before inflating, and inflation stops as soon as the
// real bytes pass the limit (a zip header may lie about the size).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { invalidPackage, isWharfError } from '../../core/errors.ts';
import { createDecompressor, detectCompression, type Compression } from '../../lib/compression.ts';
import type { DistFilename } from './filename.ts';
import { normalizeName } from './names.ts';
import { normalizeVersion } from './version.ts';

export interface DistReadLimits {
  /** Largest METADATA / PKG-INFO accepted, in bytes (default 4 MiB). */
  maxMetadataBytes?: number;
  /** Most decompressed tar bytes scanned looking for PKG-INFO (default 4 GiB). */
  maxScanBytes?: number;
}

export const DEFAULT_MAX_METADATA_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_SCAN_BYTES = 4 * 1024 * 1024 * 1024;

const WHEEL_METADATA_RE = /^([^/]+)\.dist-info\/METADATA$/;
const PKG_INFO_RE = /^([^/]+)\/PKG-INFO$/;

/** The raw bytes of the distribution's METADATA (wheel) or PKG-INFO (sdist). */
export async function readDistMetadata(path: string, dist: DistFilename, limits: DistReadLimits = {}): Promise<Buffer> {
  const maxBytes = limits.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const maxScan = limits.maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES;
  if (dist.kind === 'wheel') return readWheelMetadata(path, dist, maxBytes);
  if (dist.ext === '.zip') return readZipSdistMetadata(path, dist, maxBytes);
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

async function withZip<T>(path: string, what: string, use: (zip: yauzl.ZipFile) => Promise<T>): Promise<T> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
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
function eachEntry(zip: yauzl.ZipFile, visit: (entry: yauzl.Entry) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      try { visit(entry); } catch (err) { reject(err); return; }
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
}

async function readZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, what: string, maxBytes: number): Promise<Buffer> {
  if (entry.uncompressedSize > maxBytes) throw tooLarge(what, maxBytes);
  const stream = await new Promise<import('node:stream').Readable>((resolve, reject) => {
    zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s)));
  });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw tooLarge(what, maxBytes);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    // yauzl's own check (validateEntrySizes) fires first when the header lies low.
    if (err instanceof Error && /too many bytes in the stream/.test(err.message)) {
      throw invalidPackage(`${what} inflates to more than its declared size (${entry.uncompressedSize} bytes)`);
    }
    throw err;
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

async function readWheelMetadata(path: string, dist: DistFilename, maxBytes: number): Promise<Buffer> {
  return withZip(path, 'wheel', async (zip) => {
    const distInfoDirs = new Set<string>();
    const metadata: yauzl.Entry[] = [];
    await eachEntry(zip, (entry) => {
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
    return readZipEntry(zip, metadata[0], 'METADATA', maxBytes);
  });
}

async function readZipSdistMetadata(path: string, dist: DistFilename, maxBytes: number): Promise<Buffer> {
  return withZip(path, 'sdist', async (zip) => {
    const found: yauzl.Entry[] = [];
    await eachEntry(zip, (entry) => { if (PKG_INFO_RE.test(entry.fileName)) found.push(entry); });
    const entry = pickPkgInfo(found.map((e) => ({ dir: PKG_INFO_RE.exec(e.fileName)![1], value: e })), dist);
    return readZipEntry(zip, entry, 'PKG-INFO', maxBytes);
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
      if (scanned > maxScan) cb(invalidPackage(`sdist decompresses to more than ${maxScan} bytes before its PKG-INFO`));
      else cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const piped = pipeline(source, decompress, budget, extract);
  piped.catch(() => {}); // its error also reaches the loop below through `extract`

  // Remember non-matching depth-1 PKG-INFOs; stop at the first one that matches.
  const found: { dir: string; value: Buffer }[] = [];
  try {
    for await (const entry of extract) {
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
      if (dirMatchesDist(m[1], dist)) return found.at(-1)!.value;
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
