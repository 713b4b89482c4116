// Unix `ar` archives, the container of a .deb. Only headers are read up front; a
// member's bytes are streamed on demand, so a multi-gigabyte data.tar costs no memory.
//
// Layout: "!<arch>\n", then per member a 60-byte header
//   name[16] mtime[12] uid[6] gid[6] mode[8, octal] size[10, decimal] "`\n"
// followed by `size` bytes and one padding "\n" when `size` is odd.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { invalidPackage } from '../../core/errors.ts';
import type { Compression } from '../../lib/compression.ts';

export const AR_MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;

export interface ArMember {
  /** Member name without the GNU `/` terminator or padding spaces. */
  name: string;
  size: number;
  /** File mode bits (octal in the header). */
  mode: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  uid: number;
  gid: number;
  /** Byte offset of the member's data in the archive. */
  offset: number;
}

function parseHeader(header: Buffer, offset: number): ArMember {
  const field = (start: number, len: number) => header.toString('latin1', start, start + len).trimEnd();
  if (header[58] !== 0x60 || header[59] !== 0x0a) {
    throw invalidPackage(`not a valid ar archive: bad member header at byte ${offset}`);
  }
  const num = (start: number, len: number, radix: number, what: string, emptyOk: boolean) => {
    const text = field(start, len).trimStart();
    if (text === '' && emptyOk) return 0;
    const valid = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
    if (!valid.test(text)) throw invalidPackage(`not a valid ar archive: bad ${what} in member header at byte ${offset}`);
    return parseInt(text, radix);
  };
  let name = field(0, 16);
  // GNU ar ends names with '/'; the special names '/' and '//' are kept as they are.
  if (name.length > 1 && name.endsWith('/') && name !== '//') name = name.slice(0, -1);
  if (name.length === 0) throw invalidPackage(`not a valid ar archive: empty member name at byte ${offset}`);
  return {
    name,
    mtime: num(16, 12, 10, 'mtime', true),
    uid: num(28, 6, 10, 'uid', true),
    gid: num(34, 6, 10, 'gid', true),
    mode: num(40, 8, 8, 'mode', true),
    size: num(48, 10, 10, 'size', false),
    offset: offset + HEADER_SIZE,
  };
}

/**
 * List the members of an ar archive file by reading only their headers.
 * Throws `invalidPackage` for a file that is not an ar archive or is truncated.
 */
export async function listArMembers(path: string): Promise<ArMember[]> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    return await walkMembers(size, async (buf, pos) => (await fh.read(buf, 0, buf.length, pos)).bytesRead);
  } finally {
    await fh.close();
  }
}

/** The same as listArMembers, for an archive held in memory (a small upload). */
export function listArMembersIn(data: Buffer): Promise<ArMember[]> {
  return walkMembers(data.length, (buf, pos) => data.copy(buf, 0, pos, pos + buf.length));
}

/** The members' headers, read with `read(buffer, position)` (bytes read) from an archive of `fileSize` bytes. */
async function walkMembers(fileSize: number, read: (buf: Buffer, pos: number) => Promise<number> | number): Promise<ArMember[]> {
  const magic = Buffer.alloc(AR_MAGIC.length);
  const bytesRead = fileSize >= magic.length ? await read(magic, 0) : 0;
  if (bytesRead < magic.length || magic.toString('latin1') !== AR_MAGIC) {
    throw invalidPackage('not an ar archive (a .deb must start with "!<arch>")');
  }
  const members: ArMember[] = [];
  const header = Buffer.alloc(HEADER_SIZE);
  let pos = AR_MAGIC.length;
  while (pos < fileSize) {
    // A lone padding byte (or newline) at the very end is tolerated, as dpkg does.
    if (fileSize - pos === 1) break;
    if (fileSize - pos < HEADER_SIZE) throw invalidPackage(`truncated ar archive: partial member header at byte ${pos}`);
    await read(header, pos);
    const member = parseHeader(header, pos);
    if (member.offset + member.size > fileSize) {
      throw invalidPackage(`truncated ar archive: member ${member.name} needs ${member.size} bytes, ${fileSize - member.offset} present`);
    }
    members.push(member);
    pos = member.offset + member.size + (member.size % 2);
  }
  return members;
}

/** A stream of one member's bytes, read from the archive file on demand. */
export function openArMember(path: string, member: ArMember): Readable {
  if (member.size === 0) return Readable.from([]);
  return createReadStream(path, { start: member.offset, end: member.offset + member.size - 1 });
}

/** One member's bytes of an archive held in memory. */
export function arMemberIn(data: Buffer, member: ArMember): Buffer {
  return data.subarray(member.offset, member.offset + member.size);
}

/** A member met while reading an archive as a stream; `stream` yields exactly its bytes. */
export interface ArStreamEntry extends ArMember {
  stream: Readable;
}

/**
 * Read an ar archive from a stream, one member at a time, like tar-stream's extract:
 * the previous entry's stream is drained automatically when the next one is requested,
 * so a consumer may read only the members it needs. Throws `invalidPackage` on garbage
 * or truncation.
 */
export async function* readArStream(source: Readable): AsyncGenerator<ArStreamEntry, void, undefined> {
  const reader = new ByteReader(source);
  try {
    const magic = await reader.readExact(AR_MAGIC.length);
    if (!magic || magic.toString('latin1') !== AR_MAGIC) {
      throw invalidPackage('not an ar archive (a .deb must start with "!<arch>")');
    }
    let pos = AR_MAGIC.length;
    for (;;) {
      const header = await reader.readUpTo(HEADER_SIZE);
      if (header.length === 0 || (header.length === 1 && header[0] === 0x0a)) return;
      if (header.length < HEADER_SIZE) throw invalidPackage(`truncated ar archive: partial member header at byte ${pos}`);
      const member = parseHeader(header, pos);
      const body = new MemberStream(reader, member);
      yield { ...member, stream: body };
      await body.finish();
      // The padding byte after an odd-sized member may be missing at the end of the archive.
      if (member.size % 2 === 1) await reader.readUpTo(1);
      pos = member.offset + member.size + (member.size % 2);
    }
  } finally {
    source.destroy();
  }
}

/** Serialised, pull-based reads over a stream's async iterator. */
class ByteReader {
  readonly #iterator: AsyncIterator<Buffer>;
  #buffered: Buffer = Buffer.alloc(0);
  #done = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(source: Readable) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  // Reads run one after another so a member stream and the archive iterator never interleave.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const { value, done } = await this.#iterator.next();
    if (done) {
      this.#done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
    this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
    return true;
  }

  /** Resolves when every read queued so far has finished. */
  async settled(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#queue;
      await tail;
    } while (tail !== this.#queue);
  }

  /** Up to `max` bytes (fewer only at the end of the stream; empty at the end). */
  read(max: number): Promise<Buffer> {
    return this.#serial(async () => {
      if (this.#buffered.length === 0) await this.#fill();
      const out = this.#buffered.subarray(0, max);
      this.#buffered = this.#buffered.subarray(out.length);
      return out;
    });
  }

  /** Exactly `n` bytes unless the stream ends first. */
  readUpTo(n: number): Promise<Buffer> {
    return this.#serial(async () => {
      while (this.#buffered.length < n && (await this.#fill()));
      const out = Buffer.from(this.#buffered.subarray(0, n));
      this.#buffered = this.#buffered.subarray(out.length);
      return out;
    });
  }

  async readExact(n: number): Promise<Buffer | null> {
    const out = await this.readUpTo(n);
    return out.length === n ? out : null;
  }
}

class MemberStream extends Readable {
  readonly #reader: ByteReader;
  readonly #member: ArMember;
  #remaining: number;

  constructor(reader: ByteReader, member: ArMember) {
    super();
    this.#reader = reader;
    this.#member = member;
    this.#remaining = member.size;
    if (member.size === 0) this.push(null);
  }

  override _read(size: number): void {
    this.#pull(size).then(
      (chunk) => {
        if (chunk === null) this.push(null);
        else this.push(chunk);
      },
      (err: Error) => this.destroy(err),
    );
  }

  async #pull(size: number): Promise<Buffer | null> {
    if (this.#remaining === 0) return null;
    const chunk = await this.#reader.read(Math.min(this.#remaining, Math.max(size, 64 * 1024)));
    if (chunk.length === 0) {
      throw invalidPackage(`truncated ar archive: member ${this.#member.name} ends ${this.#remaining} bytes early`);
    }
    this.#remaining -= chunk.length;
    return chunk;
  }

  /** Skip whatever the consumer did not read, so the archive can go on to the next header. */
  async finish(): Promise<void> {
    if (!this.destroyed && !this.readableEnded) this.destroy();
    // A read the stream started before it was destroyed must land first.
    await this.#reader.settled();
    while (this.#remaining > 0) {
      const chunk = await this.#reader.read(this.#remaining);
      if (chunk.length === 0) {
        throw invalidPackage(`truncated ar archive: member ${this.#member.name} ends ${this.#remaining} bytes early`);
      }
      this.#remaining -= chunk.length;
    }
  }
}

/** The parts of a .deb that matter, found by `inspectDebMembers`. */
export interface DebLayout {
  control: ArMember;
  controlCompression: Compression;
  data: ArMember;
  dataCompression: Compression;
}

// dpkg accepts these compressions for control.tar and data.tar (data also takes bzip2/lzma).
const CONTROL_SUFFIXES: Record<string, Compression> = { '': 'none', '.gz': 'gzip', '.xz': 'xz', '.zst': 'zstd' };
const DATA_SUFFIXES: Record<string, Compression> = { ...CONTROL_SUFFIXES, '.bz2': 'bzip2', '.lzma': 'xz' };

/**
 * Check the member order dpkg-deb requires (debian-binary, control.tar*, data.tar*;
 * members starting with `_` are ignored) and return where control and data are.
 * The content of debian-binary is checked by `checkDebianBinary`.
 */
export function inspectDebMembers(members: ArMember[]): DebLayout {
  if (members.length === 0) throw invalidPackage('not a Debian package: the ar archive has no members (truncated?)');
  if (members[0].name !== 'debian-binary') {
    throw invalidPackage('not a Debian package: the first ar member must be debian-binary');
  }
  let control: ArMember | undefined;
  let controlCompression: Compression = 'none';
  for (const member of members.slice(1)) {
    if (member.name.startsWith('_')) continue;
    if (member.name.startsWith('control.tar')) {
      if (control) throw invalidPackage('Debian package has two control members');
      const suffix = member.name.slice('control.tar'.length);
      if (!(suffix in CONTROL_SUFFIXES)) throw invalidPackage(`Debian package uses an unknown compression for ${member.name}`);
      control = member;
      controlCompression = CONTROL_SUFFIXES[suffix];
      continue;
    }
    if (member.name.startsWith('data.tar')) {
      if (!control) throw invalidPackage(`Debian package has ${member.name} before its control member`);
      const suffix = member.name.slice('data.tar'.length);
      if (!(suffix in DATA_SUFFIXES)) throw invalidPackage(`Debian package uses an unknown compression for ${member.name}`);
      // dpkg stops at data.tar; anything after it is ignored, as dpkg does.
      return { control, controlCompression, data: member, dataCompression: DATA_SUFFIXES[suffix] };
    }
    throw invalidPackage(`Debian package has an unexpected member ${member.name}`);
  }
  throw invalidPackage(control ? 'Debian package has no data.tar member' : 'Debian package has no control.tar member');
}

/** debian-binary must hold a 2.x format version followed by a newline. */
export function checkDebianBinary(content: Buffer): void {
  if (!/^2\.\d+\n/.test(content.toString('latin1'))) {
    throw invalidPackage(`unsupported .deb format version ${JSON.stringify(content.toString('latin1').slice(0, 16))} (expected "2.0")`);
  }
}
