// Building a large, mostly unchanged Packages file quickly. The text is cut into chunks at
// content-defined stanza boundaries (so adding one package changes one chunk, not every chunk
// after it). Each chunk is compressed as its own gzip member / xz stream and the members are
// concatenated: gzip defines a file of several members as their concatenation (zlib's gzread,
// which apt uses, reads them all). apt stops after the first xz stream, so the chunks' xz
// blocks are joined into one stream with a new index instead (xz-join.ts). Between builds the
// compressed chunks and the hash states after each chunk are remembered (in a ChunkMemory the
// core holds per repository), so a rebuild compresses only the chunks that changed and hashes
// only from the first change onwards. The uncompressed text is not kept: a chunk's text is
// its gzip member inflated. After a start the memory is seeded from the published files, so
// the first build compresses only what changed since they were published.
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { compressBuffer } from '../../lib/compression.ts';
import { splitXz, xzTail } from './xz-join.ts';

export interface LazyChunk {
  /** Identifies the chunk's content (e.g. its stanzas' hashes); equal keys mean equal text. */
  key: string;
}

export type ChunkEncoding = 'plain' | 'gzip' | 'xz';

export interface EncodedIndex {
  parts: Buffer[];
  size: number;
  md5: string;
  sha256: string;
  sha512: string;
}

const ALGORITHMS = ['md5', 'sha256', 'sha512'] as const;
const XZ_PROCESSES = Math.max(1, Math.min(8, availableParallelism()));
/** A chunk is small: xz -1 compresses it nearly as well as -6 in a fraction of the time. */
const XZ_LEVEL = 1;

/** One chunk compressed: its gzip member, and its xz block(s) with their index records. */
interface Encoded {
  gz: Buffer;
  xzBlocks: Buffer;
  xzRecords: [number, number][];
}

interface Hashed {
  keys: string[];
  /** The hash states after each part. */
  states: Hash[][];
}

interface StreamMemory {
  chunks: Map<string, Encoded>;
  xzHeader: Buffer;
  xzFlags: Buffer;
  hashed: Partial<Record<ChunkEncoding, Hashed>>;
}

/**
 * The last build of each stream of one repository. Everything in it is found by content (a
 * chunk's key names the stanzas it lists; hash states are reused only for the same leading
 * keys), so no change to the repository can make it wrong: changes are ignored, and it goes
 * when the repository does. Its size is that of the repository's Packages.gz and .xz files
 * and a few hash states per chunk.
 */
export class ChunkMemory {
  readonly streams = new Map<string, StreamMemory>();

  applyChanges(): void {
    // found by content: nothing to forget
  }

  /** Bytes held (compressed chunks), for docs and tests. */
  get bytes(): number {
    let n = 0;
    for (const s of this.streams.values()) for (const c of s.chunks.values()) n += c.gz.length + c.xzBlocks.length;
    return n;
  }

  /**
   * Take the chunks of a published Packages.gz and .xz (as encodeStream wrote them) as built,
   * each under the key `keyOf` gives its text. Files not laid out so are ignored: the build
   * then compresses every chunk.
   */
  seed(stream: string, gz: Uint8Array, xz: Uint8Array, keyOf: (text: Buffer) => string): void {
    if (this.streams.has(stream)) return;
    let members: Buffer[];
    let parts: ReturnType<typeof splitXz>;
    try {
      members = gzipMembers(Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength));
      parts = splitXz(Buffer.from(xz.buffer, xz.byteOffset, xz.byteLength));
    } catch {
      return;
    }
    if (members.length !== parts.records.length || members.length === 0) return;
    const chunks = new Map<string, Encoded>();
    let at = 0;
    members.forEach((member, i) => {
      const record = parts.records[i];
      const padded = Math.ceil(record[0] / 4) * 4;
      // Copies: the published bodies are not kept alive by the chunks.
      chunks.set(keyOf(gunzipSync(member)), { gz: Buffer.from(member), xzBlocks: Buffer.from(parts.blocks.subarray(at, at + padded)), xzRecords: [record] });
      at += padded;
    });
    if (at !== parts.blocks.length) return;
    this.streams.set(stream, { chunks, xzHeader: Buffer.from(parts.header), xzFlags: Buffer.from(parts.streamFlags), hashed: {} });
  }
}

/** The members of a gzip file of several members, each as its bytes. */
function gzipMembers(gz: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < gz.length) {
    // The members this module writes have the plain 10-byte header (no name, no extra field).
    if (gz.length - at < 18 || gz[at] !== 0x1f || gz[at + 1] !== 0x8b || gz[at + 2] !== 8 || gz[at + 3] !== 0) throw new Error('not a gzip member');
    const r = inflateRawSync(gz.subarray(at + 10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    const end = at + 10 + r.engine.bytesWritten + 8;
    out.push(gz.subarray(at, end));
    at = end;
  }
  return out;
}

async function encode(text: string): Promise<{ encoded: Encoded; header: Buffer; flags: Buffer }> {
  const data = Buffer.from(text, 'utf8');
  const xz = splitXz(await compressBuffer('xz', data, XZ_LEVEL));
  return { encoded: { gz: gzipSync(data, { level: 9 }), xzBlocks: Buffer.from(xz.blocks), xzRecords: xz.records }, header: Buffer.from(xz.header), flags: Buffer.from(xz.streamFlags) };
}

/** Hash `parts` (keyed by `keys`), reusing the states of the unchanged leading parts of the last build. */
function hashParts(previous: Hashed | undefined, keys: string[], part: (i: number) => Buffer): { sums: string[]; hashed: Hashed } {
  let same = 0;
  if (previous) while (same < keys.length && same < previous.keys.length && keys[same] === previous.keys[same]) same++;
  const states: Hash[][] = previous ? previous.states.slice(0, same) : [];
  let current = same > 0 ? states[same - 1].map((h) => h.copy()) : ALGORITHMS.map((a) => createHash(a));
  for (let i = same; i < keys.length; i++) {
    const p = part(i);
    for (const h of current) h.update(p);
    states.push(current);
    current = current.map((h) => h.copy());
  }
  return { sums: current.map((h) => h.digest('hex')), hashed: { keys, states } };
}

/**
 * Encode one stream's chunks (reusing its last build), as Packages, Packages.gz and
 * Packages.xz. `texts` gives the text of the chunks at the given indexes (those not built yet).
 */
export async function encodeStream(memory: ChunkMemory, stream: string, chunks: readonly LazyChunk[], texts: (indexes: number[]) => Promise<string[]>): Promise<Record<ChunkEncoding, EncodedIndex>> {
  const previous = memory.streams.get(stream);
  // No stanza: one empty chunk (an empty gzip member, an xz stream without blocks).
  const list: readonly LazyChunk[] = chunks.length ? chunks : [{ key: '' }];
  const encoded: Encoded[] = new Array(list.length);
  const fresh = new Map<number, string>();
  const missing: number[] = [];
  list.forEach((c, i) => {
    const e = previous?.chunks.get(c.key);
    if (e) encoded[i] = e;
    else missing.push(i);
  });
  let header = previous?.xzHeader;
  let flags = previous?.xzFlags;
  if (missing.length) {
    const got = chunks.length ? await texts(missing) : [''];
    missing.forEach((i, j) => fresh.set(i, got[j]));
    // xz runs as a process per chunk: a few at a time.
    let cursor = 0;
    const worker = async () => {
      while (cursor < missing.length) {
        const i = missing[cursor++];
        const e = await encode(fresh.get(i)!);
        header ??= e.header;
        flags ??= e.flags;
        encoded[i] = e.encoded;
      }
    };
    await Promise.all(Array.from({ length: Math.min(XZ_PROCESSES, missing.length) }, worker));
  }
  const keys = list.map((c) => c.key);
  const next: StreamMemory = { chunks: new Map(keys.map((k, i) => [k, encoded[i]])), xzHeader: header!, xzFlags: flags!, hashed: {} };

  // Packages: each chunk's text (inflated again where it was not just encoded).
  const plainPart = (i: number) => (fresh.has(i) ? Buffer.from(fresh.get(i)!, 'utf8') : gunzipSync(encoded[i].gz));
  const plain = hashParts(previous?.hashed.plain, keys, plainPart);
  next.hashed.plain = plain.hashed;
  const plainSize = encoded.reduce((n, e) => n + e.xzRecords.reduce((m, r) => m + r[1], 0), 0);

  const gzParts = encoded.map((e) => e.gz);
  const gz = hashParts(previous?.hashed.gzip, keys, (i) => gzParts[i]);
  next.hashed.gzip = gz.hashed;

  // Packages.xz: one stream of all chunks' blocks.
  const xzParts = [header!, ...encoded.map((e) => e.xzBlocks), xzTail(encoded.flatMap((e) => e.xzRecords), flags!)];
  const xz = hashParts(previous?.hashed.xz, ['header', ...keys, `tail:${Math.random()}`], (i) => xzParts[i]);
  next.hashed.xz = xz.hashed;

  memory.streams.set(stream, next);
  const result = (parts: Buffer[], size: number, sums: string[]): EncodedIndex => ({ parts, size, md5: sums[0], sha256: sums[1], sha512: sums[2] });
  return {
    plain: result([], plainSize, plain.sums),
    gzip: result(gzParts, gzParts.reduce((n, p) => n + p.length, 0), gz.sums),
    xz: result(xzParts, xzParts.reduce((n, p) => n + p.length, 0), xz.sums),
  };
}
