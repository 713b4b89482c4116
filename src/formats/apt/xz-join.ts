// Joining xz streams into ONE stream of several blocks. apt's liblzma decoder stops at the end
// of the first stream, so concatenated xz streams would look truncated to it; blocks are
// independent, though, so the blocks of separately compressed chunks can be put in one stream
// with a new index (xz file format 1.1.0, sections 2 and 4) and every decoder reads it whole.
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = Buffer.from('YZ', 'latin1');

export interface XzParts {
  /** Stream header (same for every stream with the same check type). */
  header: Buffer;
  /** The blocks, byte for byte. */
  blocks: Buffer;
  /** Index records: unpadded and uncompressed size of each block. */
  records: [number, number][];
  streamFlags: Buffer;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 1;
  for (let i = 0; i < 9; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new Error('truncated xz index');
    value += (b & 0x7f) * shift;
    shift *= 128;
    if ((b & 0x80) === 0) return [value, pos + i + 1];
  }
  throw new Error('bad xz varint');
}

function writeVarint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Split one single-stream .xz (as `xz -c` writes it) into its parts. */
export function splitXz(xz: Buffer): XzParts {
  if (xz.length < 24 || !xz.subarray(0, 6).equals(MAGIC) || !xz.subarray(xz.length - 2).equals(FOOTER_MAGIC)) throw new Error('not a single xz stream');
  const footer = xz.subarray(xz.length - 12);
  const indexSize = (footer.readUInt32LE(4) + 1) * 4;
  const indexStart = xz.length - 12 - indexSize;
  const index = xz.subarray(indexStart, xz.length - 12);
  if (index[0] !== 0x00) throw new Error('bad xz index');
  let [count, pos] = readVarint(index, 1);
  const records: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const [unpadded, p1] = readVarint(index, pos);
    const [uncompressed, p2] = readVarint(index, p1);
    records.push([unpadded, uncompressed]);
    pos = p2;
  }
  return { header: xz.subarray(0, 12), blocks: xz.subarray(12, indexStart), records, streamFlags: xz.subarray(6, 8) };
}

/** The index and stream footer that close a stream of these blocks. */
export function xzTail(records: readonly [number, number][], streamFlags: Buffer): Buffer {
  const bytes = [0x00, ...writeVarint(records.length)];
  for (const [u, c] of records) bytes.push(...writeVarint(u), ...writeVarint(c));
  while (bytes.length % 4) bytes.push(0);
  const index = Buffer.from(bytes);
  const indexCrc = Buffer.alloc(4);
  indexCrc.writeUInt32LE(crc32(index) >>> 0);
  const backward = Buffer.alloc(4);
  backward.writeUInt32LE((index.length + 4) / 4 - 1);
  const footerCrc = Buffer.alloc(4);
  footerCrc.writeUInt32LE(crc32(Buffer.concat([backward, streamFlags])) >>> 0);
  return Buffer.concat([index, indexCrc, footerCrc, backward, streamFlags, FOOTER_MAGIC]);
}
