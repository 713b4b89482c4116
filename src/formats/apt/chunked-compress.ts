// Building a large, mostly unchanged Packages file quickly. The text is cut into chunks at
// content-defined stanza boundaries (so adding one package changes one chunk, not every chunk
// after it). Each chunk is compressed as its own gzip member / xz stream and the members are
// concatenated: gzip defines a file of several members as their concatenation (zlib's gzread,
// which apt uses, reads them all). apt stops after the first xz stream, so the chunks' xz
// blocks are joined into one stream with a new index instead (xz-join.ts). Between builds the
// encoded chunks and the hash states after each chunk are remembered (in a ChunkMemory the
// core holds per repository), so a rebuild compresses only the chunks that changed and hashes
// only from the first change onwards.
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { gzipSync } from 'node:zlib';
import { compressBuffer } from '../../lib/compression.ts';
import { splitXz, xzTail } from './xz-join.ts';

export interface LazyChunk {
  /** Identifies the chunk's content (e.g. the file rows it lists); equal keys mean equal text. */
  key: string;
  text(): string;
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

interface Remembered {
  parts: Map<string, Buffer>;
  /** Keys in order, and the hash states after each part. */
  keys: string[];
  states: Hash[][];
}

/**
 * The last build of each stream of one repository. Everything in it is found by content (a
 * chunk's key names the rows it lists; hash states are reused only for the same leading
 * keys), so no change to the repository can make it wrong: changes are ignored, and it goes
 * when the repository does. Its size is that of the repository's compressed Packages files.
 */
export class ChunkMemory {
  readonly streams = new Map<string, Remembered>();

  applyChanges(): void {
    // found by content: nothing to forget
  }
}

async function encode(kind: ChunkEncoding, text: string): Promise<Buffer> {
  const data = Buffer.from(text, 'utf8');
  if (kind === 'plain') return data;
  if (kind === 'gzip') return gzipSync(data, { level: 9 });
  // A chunk is small: xz -1 compresses it nearly as well as -6 in a fraction of the time
  // (-6 sets up a 8 MiB dictionary per process), and an add waits for it.
  return compressBuffer('xz', data, XZ_LEVEL);
}

const XZ_LEVEL = 1;

/** Encode `chunks` (reusing the last build of `stream`) and hash the concatenation. */
export async function encodeChunks(memory: ChunkMemory, stream: string, kind: ChunkEncoding, chunks: readonly LazyChunk[]): Promise<EncodedIndex> {
  const memoryKey = `${kind}\0${stream}`;
  const previous = memory.streams.get(memoryKey);
  const parts: Buffer[] = new Array(chunks.length);
  const missing: number[] = [];
  chunks.forEach((c, i) => {
    const z = previous?.parts.get(c.key);
    if (z) parts[i] = z;
    else missing.push(i);
  });
  // xz runs as a process per chunk: a few at a time (each xz -6 takes ~100 MB).
  let cursor = 0;
  const worker = async () => {
    while (cursor < missing.length) {
      const i = missing[cursor++];
      parts[i] = await encode(kind, chunks[i].text());
    }
  };
  await Promise.all(Array.from({ length: kind === 'xz' ? Math.min(XZ_PROCESSES, missing.length) : Math.min(1, missing.length) }, worker));
  if (parts.length === 0) parts.push(await encode(kind, ''));
  const chunkKeys = chunks.length ? chunks.map((c) => c.key) : [''];
  const remembered = new Map(chunkKeys.map((k, i) => [k, parts[i]]));

  // What is hashed and served: for xz, one stream of all chunks' blocks.
  let keys = chunkKeys;
  let out = parts;
  if (kind === 'xz') {
    const split = parts.map(splitXz);
    out = [split[0].header, ...split.map((s) => s.blocks), xzTail(split.flatMap((s) => s.records), split[0].streamFlags)];
    keys = ['header', ...chunkKeys, `tail:${Math.random()}`];
  }

  // Hash states carry over for the unchanged leading parts.
  let same = 0;
  if (previous) while (same < keys.length && same < previous.keys.length && keys[same] === previous.keys[same]) same++;
  const states: Hash[][] = previous ? previous.states.slice(0, same) : [];
  let current = same > 0 ? states[same - 1].map((h) => h.copy()) : ALGORITHMS.map((a) => createHash(a));
  for (let i = same; i < out.length; i++) {
    for (const h of current) h.update(out[i]);
    states.push(current);
    current = current.map((h) => h.copy());
  }
  const [md5, sha256, sha512] = current.map((h) => h.digest('hex'));
  memory.streams.set(memoryKey, { parts: remembered, keys, states });
  return { parts: out, size: out.reduce((n, p) => n + p.length, 0), md5, sha256, sha512 };
}
