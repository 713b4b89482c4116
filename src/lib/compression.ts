// Stream (de)compression for the archive formats packages arrive in.
// gzip and zstd come from Node's zlib; xz has no Node binding, so it runs the
// system `xz` (xz-utils) as a pipe, which keeps memory constant for large packages.
import { spawn } from 'node:child_process';
import { Duplex, PassThrough, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';

export type Compression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'none';

/** Detect a compression by its magic bytes; `none` when nothing matches. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return 'none';
}

/** Compression named by a file name's extension (`.gz`, `.xz`, `.zst`, `.bz2`). */
export function compressionFromName(name: string): Compression {
  if (/\.(gz|tgz)$/.test(name)) return 'gzip';
  if (/\.xz$/.test(name)) return 'xz';
  if (/\.zst$/.test(name)) return 'zstd';
  if (/\.bz2$/.test(name)) return 'bzip2';
  return 'none';
}

function pipeThroughProcess(cmd: string, args: string[]): Duplex {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
  // The output ends only after the process exited with 0: xz on corrupt input writes a
  // partial (or empty) output and then fails, which must be an error, not a short stream.
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} failed (${code ?? signal}): ${stderr.trim() || 'corrupt input'}`));
    });
  });
  exited.catch(() => undefined); // nobody may read to the end (the consumer stopped early)
  async function* output(): AsyncGenerator<Buffer> {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await exited;
  }
  const duplex = Duplex.from({ writable: child.stdin, readable: Readable.from(output(), { objectMode: false }) });
  duplex.on('close', () => { if (child.exitCode === null) child.kill('SIGTERM'); });
  return duplex;
}

/** A transform that decompresses the given format. */
export function createDecompressor(kind: Compression): Duplex | Transform {
  switch (kind) {
    case 'gzip': return zlib.createGunzip();
    case 'zstd': return zlib.createZstdDecompress();
    case 'xz': return pipeThroughProcess('xz', ['-dc']);
    case 'bzip2': return pipeThroughProcess('bzip2', ['-dc']);
    case 'none': return new PassThrough();
  }
}

/** A transform that compresses to the given format. */
/** `level` is the format's preset (gzip 1–9, xz 0–9); each format's default otherwise. */
export function createCompressor(kind: Compression, level?: number): Duplex | Transform {
  switch (kind) {
    case 'gzip': return zlib.createGzip({ level: 9 });
    case 'zstd': return zlib.createZstdCompress();
    case 'xz': return pipeThroughProcess('xz', ['-c', `-${level ?? 6}`]);
    case 'bzip2': return pipeThroughProcess('bzip2', ['-c']);
    case 'none': return new PassThrough();
  }
}

/** Compress a whole buffer (for generated indexes, which are small enough to hold). */
export async function compressBuffer(kind: Compression, data: Uint8Array, level?: number): Promise<Buffer> {
  if (kind === 'gzip') return zlib.gzipSync(data, { level: level ?? 9 });
  if (kind === 'zstd') return zlib.zstdCompressSync(data);
  if (kind === 'none') return Buffer.from(data);
  return collect(Readable_from(data).pipe(createCompressor(kind, level)));
}

function Readable_from(data: Uint8Array): Readable {
  const pt = new PassThrough();
  pt.end(data);
  return pt;
}

/** Read a stream into one buffer, refusing more than `limit` bytes. */
export async function collect(stream: Readable | Duplex, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new RangeError(`stream exceeds ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
