// Writes a valid wheel of any size below 4 GiB without holding it in memory: small STORED
// entries (module, METADATA, WHEEL, RECORD) and one large STORED entry made of a repeated
// pseudo-random block. CRC-32 and sha256 of the large entry are computed in a first pass
// over the same deterministic blocks, so each local header is written with its final values.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { coreMetadataText, escapedName, wheelFilename } from '../../test/helpers/python-dists.ts';

const BLOCK = 1024 * 1024;
const MAX_ZIP32 = 0xffffffff;

interface Entry {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

function localHeader(name: Buffer, crc: number, size: number): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4); // version needed
  h.writeUInt16LE(0x0800, 6); // UTF-8 names
  h.writeUInt16LE(0, 8); // STORED
  h.writeUInt16LE(0, 10); // time
  h.writeUInt16LE(0x21, 12); // date 1980-01-01
  h.writeUInt32LE(crc >>> 0, 14);
  h.writeUInt32LE(size, 18);
  h.writeUInt32LE(size, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(0, 28);
  return Buffer.concat([h, name]);
}

function centralHeader(e: Entry): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(0x0800, 8);
  h.writeUInt16LE(0, 10);
  h.writeUInt16LE(0, 12);
  h.writeUInt16LE(0x21, 14);
  h.writeUInt32LE(e.crc >>> 0, 16);
  h.writeUInt32LE(e.size, 20);
  h.writeUInt32LE(e.size, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file 0644
  h.writeUInt32LE(e.offset, 42);
  return Buffer.concat([h, e.name]);
}

function endOfCentralDirectory(count: number, size: number, offset: number): Buffer {
  const h = Buffer.alloc(22);
  h.writeUInt32LE(0x06054b50, 0);
  h.writeUInt16LE(count, 8);
  h.writeUInt16LE(count, 10);
  h.writeUInt32LE(size, 12);
  h.writeUInt32LE(offset, 16);
  return h;
}

export interface BigWheel {
  path: string;
  filename: string;
  size: number;
  sha256: string;
}

/** A wheel `{name}-{version}-py3-none-any.whl` at `dir/` whose payload entry has `dataBytes` bytes. */
export async function writeBigWheel(dir: string, name: string, version: string, dataBytes: number): Promise<BigWheel> {
  if (dataBytes > MAX_ZIP32 - 64 * 1024) throw new Error('this writer has no zip64: keep the wheel below 4 GiB');
  const block = randomBytes(BLOCK);
  const blockAt = (offset: number) => block.subarray(0, Math.min(BLOCK, dataBytes - offset));

  // Pass 1: CRC-32 and sha256 of the payload, for its header and for RECORD.
  let crc = 0;
  const sha = createHash('sha256');
  for (let off = 0; off < dataBytes; off += BLOCK) {
    const b = blockAt(off);
    crc = zlib.crc32(b, crc);
    sha.update(b);
  }
  const dataName = `${escapedName(name)}/payload.bin`;
  const distInfo = `${escapedName(name)}-${version}.dist-info`;
  const small = new Map<string, Buffer>([
    [`${escapedName(name)}/__init__.py`, Buffer.from(`__version__ = ${JSON.stringify(version)}\n`)],
    [`${distInfo}/METADATA`, Buffer.from(coreMetadataText({ name, version, summary: 'a large wheel for the upload benchmark' }))],
    [`${distInfo}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: wharf-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n')],
  ]);
  const record = [...small].map(([p, d]) => `${p},sha256=${createHash('sha256').update(d).digest('base64url')},${d.length}`);
  record.push(`${dataName},sha256=${sha.digest('base64url')},${dataBytes}`, `${distInfo}/RECORD,,`);
  small.set(`${distInfo}/RECORD`, Buffer.from(record.join('\n') + '\n'));

  const filename = wheelFilename({ name, version });
  const path = `${dir}/${filename}`;
  const out = createWriteStream(path);
  const fileSha = createHash('sha256');
  let offset = 0;
  const write = async (b: Buffer) => {
    fileSha.update(b);
    offset += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  const entries: Entry[] = [];
  const addSmall = async (p: string, d: Buffer) => {
    const nameBuf = Buffer.from(p);
    const e = { name: nameBuf, crc: zlib.crc32(d), size: d.length, offset };
    entries.push(e);
    await write(localHeader(nameBuf, e.crc, e.size));
    await write(d);
  };
  const [init, ...distInfoFiles] = [...small];
  await addSmall(init[0], init[1]);
  // Pass 2: the payload, streamed.
  const dataEntry = { name: Buffer.from(dataName), crc, size: dataBytes, offset };
  entries.push(dataEntry);
  await write(localHeader(dataEntry.name, crc, dataBytes));
  for (let off = 0; off < dataBytes; off += BLOCK) await write(Buffer.from(blockAt(off)));
  for (const [p, d] of distInfoFiles) await addSmall(p, d);
  const cdStart = offset;
  for (const e of entries) await write(centralHeader(e));
  await write(endOfCentralDirectory(entries.length, offset - cdStart, cdStart));
  out.end();
  await once(out, 'finish');
  return { path, filename, size: offset, sha256: fileSha.digest('hex') };
}
