// Reads a pacman package (`.pkg.tar[.zst|.xz|.gz|.bz2]`) in one streaming pass: the
// `.PKGINFO` metadata and the file list that goes into the `.files` db. Memory stays
// constant in the package size; only `.PKGINFO` and the list of names are held.
// The pass goes to the end of the package: the whole compressed stream must decode (the
// compressors' own checks) and the tar must be whole, or the package is refused.
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { invalidPackage, isWharfError } from '../../core/errors.ts';
import { type Compression, createDecompressor, detectCompression } from '../../lib/compression.ts';
import { tarEntryProblem, validateTar } from '../../lib/tar-integrity.ts';
import { type PkgInfo, parsePkginfo } from './pkginfo.ts';

export interface ArchPackage {
  pkginfo: PkgInfo;
  /** The `.PKGINFO` text as found in the package. */
  rawPkginfo: string;
  /**
   * The package's paths as repo-add writes them under `%FILES%`: the names stored in the
   * tar (directories end with `/`), without the root dot-files (`.PKGINFO`, `.MTREE`,
   * `.BUILDINFO`, `.INSTALL`, `.CHANGELOG`, ...), escaped like `bsdtar -t`, sorted
   * byte-wise and de-duplicated (`LC_ALL=C sort -u`).
   */
  files: string[];
  /** The compression found by magic bytes (`none` for a plain `.pkg.tar`). */
  compression: Compression;
}

export interface ReadArchPackageOptions {
  /** Largest `.PKGINFO` accepted, in bytes (default 1 MiB). */
  maxPkginfoSize?: number;
}

const DEFAULT_MAX_PKGINFO = 1024 * 1024;
const SUPPORTED: ReadonlySet<Compression> = new Set(['zstd', 'xz', 'gzip', 'bzip2', 'none']);

/**
 * Read the package at `path`. The compression is detected from the content, never from
 * the name. Throws `invalidPackage` for anything that is not a pacman package: bytes
 * that are not a (compressed) tar, a tar without `.PKGINFO`, an invalid `.PKGINFO`.
 * File-system errors (missing file, I/O) are thrown unchanged: they are not the client's.
 */
export async function readArchPackage(path: string, options: ReadArchPackageOptions = {}): Promise<ArchPackage> {
  const maxPkginfo = options.maxPkginfoSize ?? DEFAULT_MAX_PKGINFO;
  const fh = await open(path, 'r');
  let compression: Compression;
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead === 0) throw invalidPackage('package file is empty');
    compression = detectCompression(head.subarray(0, bytesRead));
  } catch (err) {
    await fh.close();
    throw err;
  }
  if (!SUPPORTED.has(compression)) {
    await fh.close();
    throw invalidPackage(`package compression ${compression} is not supported`);
  }

  // The file handle is closed by its read stream (autoClose) when the pipeline ends.
  const source = fh.createReadStream({ start: 0 });
  const decompressor = createDecompressor(compression);
  const extract = tar.extract();
  const piping = pipeline(source, decompressor, validateTar(), extract);
  piping.catch(() => {}); // the same error also ends the iteration below

  let rawPkginfo: string | undefined;
  const names: string[] = [];
  let entries = 0;
  try {
    for await (const entry of extract) {
      entries++;
      const problem = tarEntryProblem(entry.header);
      if (problem) throw invalidPackage(`not a pacman package: ${problem}`);
      const name = entry.header.name;
      if (name === '.PKGINFO') {
        // Exactly `.PKGINFO`, as libalpm looks for it (not `./.PKGINFO`).
        if (rawPkginfo !== undefined) throw invalidPackage('package has more than one .PKGINFO');
        rawPkginfo = await readText(entry, maxPkginfo);
      } else {
        entry.resume();
      }
      if (!isRootDotFile(name)) names.push(escapeLikeBsdtar(name));
    }
    await piping;
  } catch (err) {
    source.destroy();
    decompressor.destroy();
    extract.destroy();
    if (isWharfError(err)) throw err;
    if (err instanceof Error && 'syscall' in err) throw err; // a read error on our side
    const what = compression === 'none'
      ? 'neither a tar archive nor compressed with zstd, xz, gzip or bzip2'
      : `not a valid ${compression}-compressed tar archive`;
    throw invalidPackage(`not a pacman package: ${what} (${err instanceof Error ? err.message : String(err)})`);
  }

  if (entries === 0) throw invalidPackage('not a pacman package: the archive is empty');
  if (rawPkginfo === undefined) throw invalidPackage('not a pacman package: no .PKGINFO at the root of the archive');
  const pkginfo = parsePkginfo(rawPkginfo);
  return { pkginfo, rawPkginfo, files: sortUniqueBytewise(names), compression };
}

async function readText(entry: AsyncIterable<unknown>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const data of entry) {
    const chunk = data as Buffer; // tar-stream entries yield Buffers
    size += chunk.length;
    if (size > limit) throw invalidPackage(`.PKGINFO is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw invalidPackage('.PKGINFO is not valid UTF-8');
  }
}

/**
 * Whether repo-add leaves `name` out of the files list. It runs
 * `bsdtar --exclude='^.*' -tf`, and libarchive's matcher first drops a leading `./`
 * (and the slashes after it), so `.PKGINFO`, `./.MTREE` and anything under a root
 * `.dir/` are excluded, while `usr/.hidden` and `./` itself are kept.
 */
export function isRootDotFile(name: string): boolean {
  let s = name;
  if (s.startsWith('./')) {
    let i = 1;
    while (i < s.length && (s[i] === '/' || (s[i] === '.' && (s[i + 1] === '/' || i + 1 === s.length)))) i++;
    s = s.slice(i);
  }
  return s.startsWith('.');
}

const C_ESCAPES: Record<number, string> = { 7: 'a', 8: 'b', 12: 'f', 10: 'n', 13: 'r', 9: 't', 11: 'v', 92: '\\' };

/**
 * A path as `bsdtar -t` prints it in a UTF-8 locale: printable characters as they are,
 * a backslash doubled, control characters as C escapes or `\ooo` per byte.
 */
export function escapeLikeBsdtar(name: string): string {
  let out = '';
  for (const ch of name) {
    const cp = ch.codePointAt(0) ?? 0;
    const control = cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
    if (!control && cp !== 0x5c) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) {
      if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c) out += String.fromCharCode(byte);
      else out += '\\' + (C_ESCAPES[byte] ?? byte.toString(8).padStart(3, '0'));
    }
  }
  return out;
}

/** `LC_ALL=C sort -u`: byte order of the UTF-8 encoding, duplicates dropped. */
function sortUniqueBytewise(names: string[]): string[] {
  const sorted = names.map((n) => Buffer.from(n, 'utf8')).sort(Buffer.compare);
  const out: string[] = [];
  let prev: Buffer | undefined;
  for (const b of sorted) {
    if (prev === undefined || !prev.equals(b)) out.push(b.toString('utf8'));
    prev = b;
  }
  return out;
}
