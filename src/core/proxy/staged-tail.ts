// A client's copy of an upstream download that is still being written: the bytes are read
// from the staged file as it grows (or taken from the writer's chunk while the client keeps
// up), so the download goes at the upstream's and the disk's pace, never at this client's.
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
  private written = 0;
  /** The file's last byte, once a chunk told it. */
  private lastByte: number | null = null;
  private size: number | null = null;
  private pos = 0;
  private reading = false;
  private wanted = false;

  /**
   * The staged file at `path` now holds `bytes` bytes, the last of them `chunk`. A client
   * that has read all before `chunk` and wants more gets it from memory, sparing a read of
   * the file; one that lags reads the file later, so it never holds up the writer.
   */
  grow(path: string, bytes: number, chunk?: Buffer): void {
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
    const before = this.written;
    const lastBefore = this.lastByte;
    this.written = bytes;
    if (chunk?.length) this.lastByte = chunk[chunk.length - 1];
    const start = bytes - (chunk?.length ?? 0);
    // Caught up: everything up to the byte held back (the file's last before this chunk) is sent.
    if (chunk?.length && start === before && this.wanted && !this.reading && this.size === null && before > HOLD_BYTES && this.pos >= before - 1) {
      // A copy: the writer's chunk is not ours to keep once this call returns. The new last
      // byte stays held back until complete(), as in pump().
      const held = this.pos === before - 1 && lastBefore !== null ? 1 : 0;
      if (this.pos === before - 1 && !held) return this.pump();
      const out = Buffer.allocUnsafe(held + chunk.length - 1);
      if (held) out[0] = lastBefore!;
      chunk.copy(out, held, 0, chunk.length - 1);
      this.pos = bytes - 1;
      this.wanted = this.push(out);
      return;
    }
    this.pump();
  }

  /** The download was verified and stored: `size` bytes in all. */
  complete(size: number): void {
    this.size = size;
    this.written = size;
    this.pump();
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  private pump(): void {
    if (!this.wanted || this.reading || this.destroyed) return;
    const limit = this.size ?? (this.written > HOLD_BYTES ? this.written - 1 : 0);
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
