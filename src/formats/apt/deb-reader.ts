// Read what the repository needs from a .deb: its control file (for Packages) and,
// on request, the paths it installs (for Contents). Everything is taken from the
// package's bytes; the uploaded file name is never trusted. Large members are
// streamed, never held in memory. control.tar and data.tar are always read to their
// ends, so a member that fails its compression's check or is not a whole tar is
// refused here rather than by dpkg on a client. A small upload the caller holds in memory is
// read from there, its gzip members inflated at once: a burst of uploads then costs no file
// reads and no thread-pool round trips per member.
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import tar, { type Extract } from 'tar-stream';
import { invalidPackage, isWharfError } from '../../core/errors.ts';
import { collect, createDecompressor, type Compression } from '../../lib/compression.ts';
import { tarEntryProblem, validateTar } from '../../lib/tar-integrity.ts';
import { arMemberIn, checkDebianBinary, inspectDebMembers, listArMembers, listArMembersIn, openArMember, type ArMember } from './ar.ts';
import { parseControl, type ControlStanza } from './control.ts';
import { DEB_ARCHITECTURE, DEB_PACKAGE_NAME, sourceName } from './pool-path.ts';
import { debVersionError } from './version.ts';

export interface ReadDebOptions {
  /** Also list the paths in data.tar (for Contents indexes); data.tar is read to its end either way. */
  listFiles?: boolean;
  /** Largest control file accepted, in bytes. Default 1 MiB. */
  maxControlSize?: number;
  /** Most paths listed before the package is refused. Default 1,000,000. */
  maxFiles?: number;
  /** The file's bytes, when the caller holds them (a small upload): read from here, not from `path`. */
  data?: Buffer;
}

/** Largest gzip member inflated in one piece from memory; a larger one is streamed. */
const MAX_INFLATED_AT_ONCE = 16 * 1024 * 1024;

/** The archive, read from its file or from memory. */
interface DebBytes {
  path: string;
  data?: Buffer;
}

export interface DebInfo {
  /** The control file's text exactly as in the package. */
  control: string;
  /** The parsed control file. */
  fields: ControlStanza;
  /** Shortcuts to the validated fields. */
  name: string;
  version: string;
  architecture: string;
  /** Source package name (`Source` without its version, or the package name). */
  source: string;
  controlCompression: Compression;
  dataCompression: Compression;
  /** Paths of everything but directories in data.tar, without `./`, in archive order (with `listFiles`). */
  files?: string[];
}

/** One entry of tar-stream's extract (a streamx Readable with its header). */
type TarEntry = Extract extends AsyncIterable<infer E> ? E : never;

export const DEFAULT_MAX_CONTROL_SIZE = 1024 * 1024;
const DEFAULT_MAX_FILES = 1_000_000;
const MAX_DEBIAN_BINARY = 64;

/** Read and validate a .deb at `path`. Throws `invalidPackage` with a clear reason. */
export async function readDeb(path: string, options: ReadDebOptions = {}): Promise<DebInfo> {
  const deb: DebBytes = { path, data: options.data };
  const members = deb.data ? await listArMembersIn(deb.data) : await listArMembers(path);
  const layout = inspectDebMembers(members);

  const debianBinary = members[0];
  if (debianBinary.size > MAX_DEBIAN_BINARY) throw invalidPackage('debian-binary member is too large');
  checkDebianBinary(deb.data ? arMemberIn(deb.data, debianBinary) : await collect(openArMember(path, debianBinary)));

  const controlBytes = await readControlFile(deb, layout.control, layout.controlCompression, options.maxControlSize ?? DEFAULT_MAX_CONTROL_SIZE);
  let control: string;
  try {
    control = new TextDecoder('utf-8', { fatal: true }).decode(controlBytes);
  } catch {
    throw invalidPackage('control file is not valid UTF-8');
  }
  const fields = parseControl(control);
  const { name, version, architecture } = validateControlFields(fields);

  const info: DebInfo = {
    control,
    fields,
    name,
    version,
    architecture,
    source: sourceName(fields),
    controlCompression: layout.controlCompression,
    dataCompression: layout.dataCompression,
  };
  const files = await listDataFiles(deb, layout.data, layout.dataCompression, options.maxFiles ?? DEFAULT_MAX_FILES);
  if (options.listFiles) info.files = files;
  return info;
}

/**
 * Check the fields every binary package needs and their syntax (Debian policy 5.6).
 * Returns the trimmed Package, Version and Architecture.
 */
export function validateControlFields(fields: ControlStanza): { name: string; version: string; architecture: string } {
  const required = (field: string) => {
    const value = fields.get(field)?.trim();
    if (!value) throw invalidPackage(`control file has no ${field} field`);
    return value;
  };
  const name = required('Package');
  const version = required('Version');
  const architecture = required('Architecture');
  if (!DEB_PACKAGE_NAME.test(name)) {
    throw invalidPackage(`invalid package name ${JSON.stringify(name)}: use lower-case letters, digits, "+", "-" and ".", at least two characters, starting with a letter or digit`);
  }
  const versionError = debVersionError(version);
  if (versionError) throw invalidPackage(`invalid version ${JSON.stringify(version)}: ${versionError}`);
  if (!DEB_ARCHITECTURE.test(architecture) || /(^|-)any($|-)/.test(architecture)) {
    throw invalidPackage(`invalid architecture ${JSON.stringify(architecture)}: a binary package names one architecture or "all"`);
  }
  const source = fields.get('Source')?.trim();
  if (source !== undefined) {
    const m = /^(\S+)(?:\s*\((.*)\))?$/.exec(source);
    if (!m || !DEB_PACKAGE_NAME.test(m[1])) throw invalidPackage(`invalid Source field ${JSON.stringify(source)}`);
    if (m[2] !== undefined && debVersionError(m[2].trim())) throw invalidPackage(`invalid version in Source field ${JSON.stringify(source)}`);
  }
  return { name, version, architecture };
}

/** `./usr/bin/x` → `usr/bin/x`; `./` → `` */
function normalizeTarPath(name: string): string {
  return name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
}

/**
 * Iterate a compressed tar member's entries, to the end of the member: the iteration
 * finishes only when the whole member decompressed cleanly and was a whole tar. Stopping
 * early tears the pipeline down (including an external xz process). Decompression and
 * tar errors become `invalidPackage`.
 */
async function* tarEntries(deb: DebBytes, member: ArMember, compression: Compression): AsyncGenerator<TarEntry> {
  const inflated = deb.data && compression === 'gzip' ? inflateAtOnce(arMemberIn(deb.data, member)) : null;
  const source = inflated ? Readable.from([inflated], { objectMode: false }) : deb.data ? Readable.from([arMemberIn(deb.data, member)], { objectMode: false }) : openArMember(deb.path, member);
  const decompressor = inflated ? new PassThrough() : createDecompressor(compression);
  const extract = tar.extract();
  const piped = pipeline(source, decompressor, validateTar(), extract);
  piped.catch(() => {}); // the same error ends the iteration below
  try {
    for await (const entry of extract) {
      const problem = tarEntryProblem(entry.header);
      if (problem) throw invalidPackage(`${member.name} is corrupt: ${problem}`);
      yield entry;
    }
    await piped;
  } finally {
    source.destroy();
    decompressor.destroy();
    extract.destroy();
  }
}

/** A small gzip member inflated in one call; null when it inflates to more than we hold at once (then it is streamed). */
function inflateAtOnce(member: Buffer): Buffer | null {
  try {
    return gunzipSync(member, { maxOutputLength: MAX_INFLATED_AT_ONCE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
    throw err;
  }
}

/** Read a member's tar with `use`; whatever breaks while decoding it is the package's fault. */
async function readMemberTar<T>(deb: DebBytes, member: ArMember, compression: Compression, use: (entries: AsyncGenerator<TarEntry>) => Promise<T>): Promise<T> {
  try {
    return await use(tarEntries(deb, member, compression));
  } catch (err) {
    if (isWharfError(err)) throw err;
    if (err instanceof Error && 'syscall' in err) throw err; // our own I/O
    throw invalidPackage(`${member.name} is corrupt: ${(err as Error).message}`);
  }
}

async function readControlFile(deb: DebBytes, member: ArMember, compression: Compression, limit: number): Promise<Buffer> {
  const control = await readMemberTar(deb, member, compression, async (entries) => {
    let found: Buffer | undefined;
    for await (const entry of entries) {
      if (normalizeTarPath(entry.header.name) !== 'control') {
        entry.resume();
        continue;
      }
      if (found) throw invalidPackage(`${member.name} has two control files`);
      if (entry.header.type !== 'file') throw invalidPackage(`control file in ${member.name} is not a regular file`);
      if ((entry.header.size ?? 0) > limit) throw invalidPackage(`control file is larger than ${limit} bytes`);
      found = await collect(entry as unknown as Readable, limit);
    }
    return found;
  });
  if (!control) throw invalidPackage(`${member.name} has no control file`);
  return control;
}

async function listDataFiles(deb: DebBytes, member: ArMember, compression: Compression, maxFiles: number): Promise<string[]> {
  return readMemberTar(deb, member, compression, async (entries) => {
    const files: string[] = [];
    for await (const entry of entries) {
      const { type, name } = entry.header;
      entry.resume();
      if (type === 'directory') continue;
      const file = normalizeTarPath(name);
      if (file === '') continue;
      if (files.length >= maxFiles) throw invalidPackage(`${member.name} holds more than ${maxFiles} files`);
      files.push(file);
    }
    return files;
  });
}
