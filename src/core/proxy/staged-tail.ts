// A client's copy of an upstream download that is still being written: the bytes are taken
// from the writer's chunks as they arrive while the client keeps up, and read from the staged
// file when it lags, so the download goes at the upstream's pace, never at this client's.
// The last byte is held back until `complete()` (the content was verified): a client told
// the Content-Length cannot finish a download that then fails, and one without it sees the
// end of the stream only after verification. Nothing is sent before HOLD_BYTES are staged:
// an upstream's error page (small) is then refused with a clean 502 instead of a connection
// cut after the headers.
import { close, openSync, read } from 'node:fs';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const HOLD_BYTES = 64 * 1024;

export class StagedFileTail extends Readable {
  private fd: number | null = null;
  /** Bytes the writer has received (handed to `arrived`), on disk or not yet. */
  private received = 0;
  /** Bytes on disk in the staged file (told by `grow`). */
  private written = 0;
  /** The last byte received, held back until complete(). */
  private lastByte: number | null = null;
  private size: number | null = null;
  private pos = 0;
  private reading = false;
  private wanted = false;

  constructor() {
    // Room for a few of the writer's chunks: a client slightly behind is still fed from memory.
    super({ highWaterMark: 1024 * 1024 });
  }

  /**
   * The writer received `chunk`, its bytes now number `bytes`, before it writes them to disk.
   * A client that has read all before `chunk` and wants more gets it from memory at once, so
   * the first client does not wait for the disk; one that lags reads the file later, so it
   * never holds up the writer. The chunk is kept, not copied: staging never reuses it.
   */
  arrived(bytes: number, chunk: Buffer): void {
    if (this.destroyed || !chunk.length) return;
    const before = this.received;
    const lastBefore = this.lastByte;
    this.received = bytes;
    this.lastByte = chunk[chunk.length - 1];
    // Caught up: everything up to the byte held back (the last before this chunk) is sent.
    if (bytes - chunk.length !== before || !this.wanted || this.reading || this.size !== null || before <= HOLD_BYTES || this.pos < before - 1) return;
    const held = this.pos === before - 1 ? 1 : 0;
    if (held && lastBefore === null) return;
    if (held) this.push(Buffer.of(lastBefore!));
    this.pos = bytes - 1;
    this.wanted = this.push(chunk.subarray(0, chunk.length - 1));
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

  /** The download was verified and stored: `size` bytes in all. */
  complete(size: number): void {
    this.size = size;
    this.received = size;
    this.written = size;
    this.pump();
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  private pump(): void {
    if (!this.wanted || this.reading || this.destroyed) return;
    // From the file: what is on disk, short of the byte held back.
    const limit = this.size ?? (this.received > HOLD_BYTES ? Math.min(this.written, this.received - 1) : 0);
    if (this.pos >= limit) {
      if (this.size !== null && this.pos >= this.size) {
        this.wanted = false;
        this.push(null);
      }
      return;
    }
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
      this.pump();
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    // A read under way still uses the descriptor: close it once that read is back.
    if (fd === null) return cb(err);
    const closeWhenIdle = () => (this.reading ? setTimeout(closeWhenIdle, 5) : close(fd, () => cb(err)));
    closeWhenIdle();
  }
}
