// Writes a blob's bytes to a response without buffering them. Each download reads one chunk
// at a time into a buffer from a shared pool and reads the next only once the socket has
// taken the last, so a download holds at most one chunk (no read-ahead), whatever the
// client's speed, and buffers are reused instead of allocated per chunk: a stream of
// fresh 64 KiB buffers per download left the allocator holding hundreds of MB after a load
// test. A blob shorter than its file row ends the connection instead of leaving the client
// waiting for bytes that never come.
import type { ServerResponse } from 'node:http';
import type { BlobReader } from '../../storage/blob-store.ts';

export const CHUNK_BYTES = 64 * 1024;

/** Equal-sized buffers for reading blobs, reused across downloads; keeps at most `maxIdle` idle. */
export class ChunkPool {
  readonly chunkBytes: number;
  private readonly maxIdle: number;
  private readonly idle: Buffer[] = [];
  /** Buffers allocated since start (tests and metrics: stays near the peak concurrency). */
  allocated = 0;
  /** Buffers handed out and not yet returned or lost. */
  inUse = 0;

  constructor(chunkBytes = CHUNK_BYTES, maxIdle = 256) {
    this.chunkBytes = chunkBytes;
    this.maxIdle = maxIdle;
  }

  take(): Buffer {
    this.inUse++;
    const b = this.idle.pop();
    if (b) return b;
    this.allocated++;
    return Buffer.allocUnsafeSlow(this.chunkBytes);
  }

  give(b: Buffer): void {
    this.inUse--;
    if (this.idle.length < this.maxIdle) this.idle.push(b);
  }

  /** A buffer a closed socket may still reference: never reused, left to the GC. */
  lose(): void {
    this.inUse--;
  }

  get idleCount(): number {
    return this.idle.length;
  }
}

export const chunkPool = new ChunkPool();

export interface SendBlobLog {
  error(obj: object, msg: string): void;
}

/** What the log line names when the blob fails mid-response. */
export interface BlobIdentity {
  repo: string;
  path: string;
  sha256: string;
}

/**
 * Writes bytes `start`..`end` (inclusive) of `reader` to `res`, whose status and headers are
 * already set, then ends it; always closes `reader`. Resolves once done or the client left.
 */
export async function sendBlob(res: ServerResponse, reader: BlobReader, start: number, end: number, id: BlobIdentity, log: SendBlobLog, pool: ChunkPool = chunkPool): Promise<void> {
  let closed = res.destroyed;
  let waiting: ((ok: boolean) => void) | null = null;
  const onClose = () => {
    closed = true;
    waiting?.(false);
  };
  res.once('close', onClose);
  let buf: Buffer | null = pool.take();
  let pos = start;
  try {
    while (pos <= end && !closed) {
      const want = Math.min(buf.length, end - pos + 1);
      let got: number;
      try {
        got = await reader.read(buf, 0, want, pos);
      } catch (err) {
        log.error({ err, ...id, position: pos }, 'reading a blob failed mid-response; connection closed');
        res.destroy();
        return;
      }
      if (got === 0) {
        // The blob on disk is shorter than its file row says: the client was promised more.
        log.error({ code: 'BLOB_TRUNCATED', ...id, expectedBytes: end + 1, position: pos }, 'blob is shorter than its file row; connection closed (the blob store is damaged: run wharf fsck)');
        res.destroy();
        return;
      }
      if (closed) break;
      const chunk = got === buf.length ? buf : buf.subarray(0, got);
      const ok = await new Promise<boolean>((resolve) => {
        waiting = resolve;
        res.write(chunk, (err) => resolve(!err));
      });
      waiting = null;
      if (!ok) {
        // The socket may still hold the buffer: do not hand it to another download.
        pool.lose();
        buf = null;
        return;
      }
      pos += got;
    }
    if (!closed) res.end();
  } finally {
    res.off('close', onClose);
    if (buf) pool.give(buf);
    await reader.close().catch(() => {});
  }
}
