// A client's copy of an upstream download that is still being written. The writer's chunks
// are handed over as they arrive, before the disk write, and wait in memory (kept, not
// copied) while the client is behind by less than `memoryBytes`; a client further behind
// reads the staged file instead, so the download goes at the upstream's pace, never at this
// client's, and memory stays bounded. The file is read only then: reading back a download
// the client could have had from memory cost a second buffer per chunk, enough garbage to
// force a full collection every few downloads.
// The last byte is held back until `complete()` (the content was verified): a client told
// the Content-Length cannot finish a download that then fails, and one without it sees the
// end of the stream only after verification. Nothing is sent before HOLD_BYTES are staged:
// an upstream's error page (small) is then refused with a clean 502 instead of a connection
// cut after the headers.
import { close, openSync, read } from 'node:fs';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const HOLD_BYTES = 64 * 1024;
const MEMORY_BYTES = 1024 * 1024;

export class StagedFileTail extends Readable {
  private fd: number | null = null;
  private readonly memoryBytes: number;
  /** Bytes the writer has received (handed to `arrived`), on disk or not yet. */
  private received = 0;
  /** Bytes on disk in the staged file (told by `grow`). */
  private written = 0;
  private size: number | null = null;
  /** Bytes handed to the stream so far. */
  private pos = 0;
  /** Received bytes from `pos` on, while the client is fed from memory (null: from the file). */
  private queue: Buffer[] | null = [];
  private queued = 0;
  /** The last chunk received and where it starts: a client back from the file resumes from it. */
  private last: Buffer | null = null;
  private lastStart = 0;
  private reading = false;
  private wanted = false;

  constructor(opts: { memoryBytes?: number } = {}) {
    super({ highWaterMark: 256 * 1024 });
    this.memoryBytes = opts.memoryBytes ?? MEMORY_BYTES;
  }

  /**
   * The writer received `chunk`, its bytes now number `bytes`, before it writes them to disk.
   * The chunk is kept, not copied: staging never reuses it.
   */
  arrived(bytes: number, chunk: Buffer): void {
    if (this.destroyed || !chunk.length || this.size !== null) return;
    const contiguous = bytes - chunk.length === this.received;
    this.received = bytes;
    this.last = chunk;
    this.lastStart = bytes - chunk.length;
    if (!this.queue) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    // Too far behind (or a writer that skipped bytes): the rest comes from the file.
    if (!contiguous || this.readableLength + this.queued > this.memoryBytes) {
      this.queue = null;
      this.queued = 0;
      return;
    }
    this.flush();
  }

  /** The staged file at `path` now holds `bytes` bytes: a client that lags may read them. */
  grow(path: string, bytes: number): void {
    if (this.destroyed) return;
    if (this.fd === null) {
      // Opened at once, while the file is surely still at `path` (a commit renames it, a
      // discard removes it; the open descriptor reads on either way).
      try {
        this.fd = openSync(path, 'r');
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
    }
    this.written = bytes;
    this.pump();
  }

  /**
   * The download was verified: `size` bytes in all. They may not all be on disk yet: a client
   * that lags reads them as `grow` says they are.
   */
  complete(size: number): void {
    this.size = size;
    this.received = size;
    if (this.queue) this.flush();
    this.pump();
  }

  /** The staged file could not be written: a client that still needs bytes from it fails. */
  fileFailed(err: Error): void {
    if (!this.queue && !this.readableEnded && (this.size === null || this.pos < this.size)) this.destroy(err);
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  /** How far the client may be given bytes: all but the byte held back, once past the hold. */
  private limit(): number {
    return this.size ?? (this.received > HOLD_BYTES ? this.received - 1 : 0);
  }

  /** Hand over the queued chunks, up to the limit (pushed past the high-water mark: bounded by memoryBytes). */
  private flush(): void {
    const queue = this.queue!;
    const limit = this.limit();
    while (queue.length && this.pos < limit) {
      const c = queue[0];
      const n = Math.min(c.length, limit - this.pos);
      if (n === c.length) queue.shift();
      else queue[0] = c.subarray(n);
      this.queued -= n;
      this.pos += n;
      this.wanted = this.push(n === c.length ? c : c.subarray(0, n));
    }
    this.end();
  }

  private end(): void {
    if (this.size !== null && this.pos >= this.size && !this.readableEnded) {
      this.wanted = false;
      this.push(null);
    }
  }

  /** From the file, for a client that fell behind: what is on disk, short of the byte held back. */
  private pump(): void {
    if (this.queue || !this.wanted || this.reading || this.destroyed) return;
    const limit = Math.min(this.written, this.limit());
    if (this.pos >= limit) return this.end();
    if (this.fd === null) return;
    this.reading = true;
    const want = Math.min(CHUNK, limit - this.pos);
    const buf = Buffer.allocUnsafe(want);
    read(this.fd, buf, 0, want, this.pos, (err, got) => {
      this.reading = false;
      if (this.destroyed) return;
      if (err) return void this.destroy(err);
      if (got === 0) return void this.destroy(new Error('the staged file is shorter than its writer said'));
      this.pos += got;
      this.wanted = this.push(got === want ? buf : buf.subarray(0, got));
      this.resumeFromMemory();
      this.pump();
    });
  }

  /** Caught up with the last chunk received: what follows comes from memory again. */
  private resumeFromMemory(): void {
    if (this.size !== null || !this.last || this.pos < this.lastStart || this.pos > this.received) return;
    const rest = this.last.subarray(this.pos - this.lastStart);
    this.queue = rest.length ? [rest] : [];
    this.queued = rest.length;
    this.flush();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    this.queue = null;
    this.last = null;
    // A read under way still uses the descriptor: close it once that read is back.
    if (fd === null) return cb(err);
    const closeWhenIdle = () => (this.reading ? setTimeout(closeWhenIdle, 5) : close(fd, () => cb(err)));
    closeWhenIdle();
  }
}
