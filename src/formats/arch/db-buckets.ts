// Incremental sync db archives. A db is a gzip file, and gzip (RFC 1952) allows several
// members one after another; libarchive (pacman, bsdtar) and zlib read them as one stream.
// So entries are spread over buckets by a hash of the package name, each bucket is its own
// gzip member, and adding a package recompresses one bucket (tens of entries) instead of
// the whole db. Members hold tar entries without an end marker; a last member holds it.
// pacman sorts packages itself, so the order of entries in the archive does not matter;
// it is deterministic here (bucket order, then entry name), so equal input gives equal bytes.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';

/** Buckets per db: about 40 entries each at 10,000 packages, few members in small repos. */
export const BUCKET_COUNT = 256;

/** The bucket of a package name: stable across processes and versions. */
export function bucketOf(pkgname: string, buckets = BUCKET_COUNT): number {
  return createHash('md5').update(pkgname).digest().readUInt32BE(0) % buckets;
}

const BLOCK = 512;
const enc = new TextEncoder();

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

function ustarHeader(name: Uint8Array, type: '0' | '5' | 'x', mode: number, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.set(name, 0);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime: deterministic output
  h.write(type, 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function padded(data: Uint8Array): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [Buffer.from(data)] : [Buffer.from(data), Buffer.alloc(BLOCK - rest)];
}

/** A pax `path` record, for names that do not fit the 100 bytes of a ustar name. */
function paxPath(name: Uint8Array): Buffer[] {
  const body = ` path=${Buffer.from(name).toString('utf8')}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (Buffer.byteLength(`${len}${body}`) !== len) len++;
  const record = enc.encode(`${len}${body}`);
  return [ustarHeader(enc.encode('PaxHeader'), 'x', 0o644, record.length), ...padded(record)];
}

function member(path: string, type: '0' | '5', mode: number, data?: Uint8Array): Buffer[] {
  const name = enc.encode(path);
  const size = data?.length ?? 0;
  const head = name.length > 100 ? [...paxPath(name), ustarHeader(name.subarray(0, 100), type, mode, size)] : [ustarHeader(name, type, mode, size)];
  return data ? [...head, ...padded(data)] : head;
}

/** One package's entries in a db tar: `<dir>/`, `<dir>/desc` and, for the files db, `<dir>/files`. */
export function tarEntry(dir: string, desc: string, files?: string): Buffer {
  const parts = [...member(`${dir}/`, '5', 0o755), ...member(`${dir}/desc`, '0', 0o644, enc.encode(desc))];
  if (files !== undefined) parts.push(...member(`${dir}/files`, '0', 0o644, enc.encode(files)));
  return Buffer.concat(parts);
}

/** One gzip member holding the given tar entries (already in their order). */
export function bucketMember(entries: readonly Uint8Array[]): Buffer {
  return gzipSync(Buffer.concat(entries), { level: 6 });
}

/** Where one package's entries are in a member's uncompressed tar: its name and byte length, in order. */
export interface EntrySpan {
  name: string;
  length: number;
}

/** The tar entries of a member, by package name, from the layout it was built with. */
export function splitMember(gz: Uint8Array, layout: readonly EntrySpan[]): Map<string, Buffer> {
  const tar = gunzipSync(gz);
  const out = new Map<string, Buffer>();
  let at = 0;
  for (const e of layout) {
    out.set(e.name, tar.subarray(at, at + e.length));
    at += e.length;
  }
  if (at !== tar.length) throw new Error(`db bucket member is ${tar.length} bytes, its layout says ${at}`);
  return out;
}

const END_MEMBER = gzipSync(Buffer.alloc(2 * BLOCK), { level: 9 });

/** The db archive: the bucket members in order, then the tar end-of-archive marker. */
export function assembleDb(members: readonly Uint8Array[]): Buffer {
  return Buffer.concat([...members, END_MEMBER]);
}

/** One package's entries found in a member: directory name, its `desc` text, byte length. */
export interface FoundEntry {
  dir: string;
  desc: string | undefined;
  length: number;
}

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0]);
const cString = (b: Buffer) => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
};

/**
 * The members of a db this module assembled, one at a time (one decompressed at a time), with
 * the package entries each holds in order. Stops at the end member, or at anything that is
 * not laid out as `assembleDb` lays it out (the caller then builds the rest afresh).
 */
export function* readMembers(db: Buffer): Generator<{ gz: Buffer; entries: FoundEntry[] }> {
  let at = 0;
  while (at + 18 <= db.length && db.subarray(at, at + 4).equals(GZIP_HEADER)) {
    let out: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      out = inflateRawSync(db.subarray(at + 10), { info: true }) as unknown as typeof out;
    } catch {
      return;
    }
    const end = at + 10 + out.engine.bytesWritten + 8;
    const tar = out.buffer;
    const entries: FoundEntry[] = [];
    /** Where each entry's first record (a pax header included) starts. */
    const starts: number[] = [];
    let pos = 0;
    let pax: { path: string | undefined; at: number } | undefined;
    for (;;) {
      if (pos + BLOCK > tar.length) return;
      const h = tar.subarray(pos, pos + BLOCK);
      if (h[0] === 0) return; // the end member (or no header this module writes)
      const size = parseInt(cString(h.subarray(124, 136)) || '0', 8);
      const type = String.fromCharCode(h[156]);
      const dataStart = pos + BLOCK;
      const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (Number.isNaN(size) || next > tar.length) return;
      if (type === 'x') {
        const m = /^\d+ path=(.*)\n$/s.exec(tar.subarray(dataStart, dataStart + size).toString('utf8'));
        pax = { path: m?.[1], at: pos };
      } else {
        const name = pax?.path ?? cString(h.subarray(0, 100));
        const recordStart = pax?.at ?? pos;
        pax = undefined;
        const slash = name.indexOf('/');
        const dir = slash < 0 ? name : name.slice(0, slash);
        if (entries.at(-1)?.dir !== dir) {
          entries.push({ dir, desc: undefined, length: 0 });
          starts.push(recordStart);
        }
        if (name === `${dir}/desc` && type === '0') entries.at(-1)!.desc = tar.subarray(dataStart, dataStart + size).toString('utf8');
      }
      pos = next;
      if (pos === tar.length) break;
    }
    if (pax) return;
    entries.forEach((e, i) => { e.length = (starts[i + 1] ?? tar.length) - starts[i]; });
    yield { gz: db.subarray(at, end), entries };
    at = end;
  }
}
