// A small zip writer for tests. Besides honest archives it can lie on purpose:
// a declared size that differs from the data, raw pre-compressed bytes, a wrong
// CRC, so tests can build zip bombs and corrupt archives at run time.
import zlib from 'node:zlib';

export interface ZipEntryInput {
  name: string;
  /** Content; compressed here unless `raw` is given. */
  data?: string | Buffer;
  /** Default `deflate`. */
  method?: 'deflate' | 'store';
  /** Bytes written as the entry's (already compressed) data, as is. */
  raw?: Buffer;
  /** Uncompressed size written in the headers, true or not. */
  declaredUncompressedSize?: number;
  /** CRC-32 written in the headers (default: of `data`). */
  crc32?: number;
  /** Unix mode for the external attributes (default 0o100644, 0o40755 for `dir/`). */
  mode?: number;
}

// 2020-01-01 00:00:00 in MS-DOS format, so archives are reproducible.
const DOS_TIME = 0;
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;

export function buildZip(entries: ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8');
    const method = e.method === 'store' ? 0 : 8;
    const body = e.raw ?? (method === 8 ? zlib.deflateRawSync(data) : data);
    const crc = e.crc32 ?? zlib.crc32(data);
    const usize = e.declaredUncompressedSize ?? data.length;
    const isDir = e.name.endsWith('/');
    const mode = e.mode ?? (isDir ? 0o40755 : 0o100644);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(usize, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(usize, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: 0
    central.writeUInt32LE((((mode & 0xffff) << 16) | (isDir ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/**
 * A raw deflate stream that inflates to `totalBytes` zeros (rounded up to whole
 * MiB) while costing about 1 KiB per MiB: one full-flushed block of zeros,
 * repeated, then an empty final block. With `final: false` the stream is left
 * open, so appending garbage makes any inflater that reads past it fail.
 */
export function deflatedZeros(totalBytes: number, options: { final?: boolean } = {}): Buffer {
  const chunk = 1024 * 1024;
  const block = zlib.deflateRawSync(Buffer.alloc(chunk), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const count = Math.max(1, Math.ceil(totalBytes / chunk));
  const parts: Buffer[] = new Array(count).fill(block);
  if (options.final !== false) parts.push(Buffer.from([0x03, 0x00])); // final fixed-Huffman block, empty
  return Buffer.concat(parts);
}
