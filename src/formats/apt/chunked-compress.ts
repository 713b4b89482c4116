// Compressing a large, mostly unchanged Packages file quickly. The text is cut into chunks at
// content-defined stanza boundaries (so adding one package changes one chunk, not every chunk
// after it), each chunk is compressed as its own gzip member / xz stream, and the members are
// concatenated: gzip and xz both define a file of several members as their concatenation, and
// apt (zlib's gzread, liblzma with LZMA_CONCATENATED) reads them so. Compressed chunks are
// remembered between builds, so a rebuild compresses only what changed.
import { availableParallelism } from 'node:os';
import { gzipSync } from 'node:zlib';
import { compressBuffer } from '../../lib/compression.ts';

export interface TextChunk {
  /** Identifies the chunk's content (e.g. the file rows it lists); equal keys mean equal text. */
  key: string;
  text: string;
}

export type ChunkCompression = 'gzip' | 'xz';

/** Compressed chunks of the last build of each stream (e.g. one suite's amd64 Packages). */
const XZ_PROCESSES = Math.max(1, Math.min(8, availableParallelism()));
const memory = new Map<string, Map<string, Buffer>>();

export async function compressChunks(stream: string, kind: ChunkCompression, chunks: readonly TextChunk[]): Promise<Buffer> {
  const memoryKey = `${kind}\0${stream}`;
  const previous = memory.get(memoryKey) ?? new Map<string, Buffer>();
  const next = new Map<string, Buffer>();
  const parts: Buffer[] = new Array(chunks.length);
  const missing: number[] = [];
  chunks.forEach((c, i) => {
    const z = previous.get(c.key);
    if (z) {
      parts[i] = z;
      next.set(c.key, z);
    } else {
      missing.push(i);
    }
  });
  // xz runs as a process per chunk: a few at a time (each xz -6 takes ~100 MB).
  let cursor = 0;
  const worker = async () => {
    while (cursor < missing.length) {
      const i = missing[cursor++];
      const data = Buffer.from(chunks[i].text, 'utf8');
      const z = kind === 'gzip' ? gzipSync(data, { level: 9 }) : await compressBuffer('xz', data);
      parts[i] = z;
      next.set(chunks[i].key, z);
    }
  };
  await Promise.all(Array.from({ length: Math.min(XZ_PROCESSES, missing.length) }, worker));
  memory.set(memoryKey, next);
  if (parts.length > 0) return Buffer.concat(parts);
  // An empty index is still a valid compressed file.
  return kind === 'gzip' ? gzipSync(Buffer.alloc(0)) : compressBuffer('xz', Buffer.alloc(0));
}

/** Forget the compressed chunks of streams whose names start with `prefix` (e.g. a deleted repository's). */
export function forgetChunks(prefix: string): void {
  for (const k of memory.keys()) if (k.slice(k.indexOf('\0') + 1).startsWith(prefix)) memory.delete(k);
}
