// Blobs on the local filesystem: <root>/<aa>/<bb>/<sha256>. Writes go to <root>/tmp first,
// are fsynced and renamed into place, so a crash never leaves a partial blob under its name.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, opendir, readdir, rename, rm, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { blobMissing, tooLarge } from '../core/errors.ts';
import type { BlobReader, BlobStore, ByteRange, StagedBlob, StageOptions, StoredBlob, TempFile } from './blob-store.ts';

const SHA256_RE = /^[0-9a-f]{64}$/;
const HEX2_RE = /^[0-9a-f]{2}$/;

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly tmp: string;

  /** The largest blob any stage accepts unless the caller asks for less. */
  private readonly maxBytes: number;
  /** Blobs committed whose caller has not discarded them yet (rows not yet written): sha256 → count. */
  private readonly committing = new Map<string, number>();
  private readonly pinned = new WeakSet<StagedBlob>();
  /** Deletes under way, so a commit of the same bytes waits and then writes them afresh. */
  private readonly deleting = new Map<string, Promise<void>>();

  constructor(root: string, opts: { maxBytes?: number } = {}) {
    this.root = root;
    this.tmp = join(root, 'tmp');
    this.maxBytes = opts.maxBytes ?? Infinity;
  }

  async init(): Promise<void> {
    await mkdir(this.tmp, { recursive: true });
    // Staged files of a previous process were never committed: nothing references them.
    await rm(this.tmp, { recursive: true, force: true });
    await mkdir(this.tmp, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    const path = join(this.tmp, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    const max = Math.min(opts.maxBytes ?? Infinity, this.maxBytes);
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) return cb(tooLarge(`upload exceeds the limit of ${max} bytes`));
        sha.update(chunk);
        md5.update(chunk);
        cb(null, chunk);
      },
    });
    const out = opts.onWritten ? followableFile(path, opts.onWritten) : createWriteStream(path, { flags: 'wx' });
    try {
      await pipeline(source, hasher, out, { signal: opts.signal });
    } catch (err) {
      await unlink(path).catch(() => {});
      throw err;
    }
    return { sha256: sha.digest('hex'), md5: md5.digest('hex'), size, path };
  }

  async stageBuffer(data: Uint8Array): Promise<StagedBlob> {
    const path = join(this.tmp, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const fh = await open(path, 'wx');
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    return {
      sha256: createHash('sha256').update(data).digest('hex'),
      md5: createHash('md5').update(data).digest('hex'),
      size: data.length,
      path,
    };
  }

  async commit(staged: StagedBlob): Promise<void> {
    const dest = this.pathOf(staged.sha256);
    // Pinned before the first await: a gc from here on leaves the blob alone.
    if (!this.pinned.has(staged)) {
      this.pinned.add(staged);
      this.committing.set(staged.sha256, (this.committing.get(staged.sha256) ?? 0) + 1);
    }
    try {
      for (let d = this.deleting.get(staged.sha256); d; d = this.deleting.get(staged.sha256)) await d;
      await this.place(staged, dest);
    } catch (err) {
      this.unpin(staged);
      throw err;
    }
  }

  private unpin(staged: StagedBlob): void {
    if (!this.pinned.has(staged)) return;
    this.pinned.delete(staged);
    const n = (this.committing.get(staged.sha256) ?? 1) - 1;
    if (n > 0) this.committing.set(staged.sha256, n);
    else this.committing.delete(staged.sha256);
  }

  private async place(staged: StagedBlob, dest: string): Promise<void> {
    if (await this.has(staged.sha256)) {
      await unlink(staged.path).catch(() => {});
      // Renew its time: gc's grace period counts from the last commit of these bytes.
      const now = new Date();
      await utimes(dest, now, now).catch(() => {});
      return;
    }
    const fh = await open(staged.path, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const dir = join(this.root, staged.sha256.slice(0, 2), staged.sha256.slice(2, 4));
    await mkdir(dir, { recursive: true });
    await rename(staged.path, dest);
    // fsync the directory so the rename itself survives a crash.
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async discard(staged: StagedBlob): Promise<void> {
    this.unpin(staged);
    await unlink(staged.path).catch(() => {});
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await access(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  localPath(sha256: string): string {
    return this.pathOf(sha256);
  }

  open(sha256: string, range?: ByteRange): Readable {
    return createReadStream(this.pathOf(sha256), range ? { start: range.start, end: range.end } : {});
  }

  async openReader(sha256: string): Promise<BlobReader> {
    let fh;
    try {
      fh = await open(this.pathOf(sha256), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw blobMissing(sha256);
      throw err;
    }
    return {
      read: async (buffer, offset, length, position) => (await fh.read(buffer, offset, length, position)).bytesRead,
      close: () => fh.close(),
    };
  }

  async delete(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const a of await readdir(this.root)) {
      if (!HEX2_RE.test(a)) continue;
      for (const b of await readdir(join(this.root, a)).catch(() => [] as string[])) {
        if (!HEX2_RE.test(b)) continue;
        const dir = await opendir(join(this.root, a, b)).catch(() => null);
        if (!dir) continue;
        for await (const e of dir) {
          if (!SHA256_RE.test(e.name) || !e.name.startsWith(a + b)) continue;
          const st = await stat(join(dir.path, e.name)).catch(() => null);
          if (st?.isFile()) yield { sha256: e.name, size: st.size, mtimeMs: st.mtimeMs };
        }
      }
    }
  }

  async free(sha256: string, opts: { graceMs: number; unused(): boolean }): Promise<boolean> {
    if (this.committing.has(sha256) || this.deleting.has(sha256)) return false;
    let done!: () => void;
    this.deleting.set(sha256, new Promise<void>((r) => (done = r)));
    try {
      const path = this.pathOf(sha256);
      const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (st && Date.now() - st.mtimeMs < opts.graceMs) return false;
      // A commit that began while we looked waits for us: decide for it now.
      if (this.committing.has(sha256) || !opts.unused()) return false;
      if (st) await this.delete(sha256);
      return true;
    } finally {
      this.deleting.delete(sha256);
      done();
    }
  }

  async listTemp(): Promise<TempFile[]> {
    const out: TempFile[] = [];
    for (const name of await readdir(this.tmp).catch(() => [] as string[])) {
      const st = await stat(join(this.tmp, name)).catch(() => null);
      if (st) out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  async removeTemp(name: string): Promise<void> {
    if (name.includes('/') || name === '..' || name === '.') throw new Error(`not a temp file name: ${name}`);
    await rm(join(this.tmp, name), { recursive: true, force: true });
  }
}

/** A file written chunk by chunk that says after each write how many bytes it holds. */
function followableFile(path: string, onWritten: (path: string, bytes: number) => void): Writable {
  let fh: FileHandle | null = null;
  let bytes = 0;
  return new Writable({
    highWaterMark: 256 * 1024,
    construct(cb) {
      open(path, 'wx').then((h) => {
        fh = h;
        cb();
      }, cb);
    },
    write(chunk: Buffer, _enc, cb) {
      void (async () => {
        for (let off = 0; off < chunk.length; ) off += (await fh!.write(chunk, off, chunk.length - off)).bytesWritten;
        bytes += chunk.length;
        onWritten(path, bytes);
      })().then(() => cb(), cb);
    },
    final(cb) {
      fh!.close().then(() => {
        fh = null;
        cb();
      }, cb);
    },
    destroy(err, cb) {
      if (!fh) return cb(err);
      fh.close().then(() => cb(err), () => cb(err));
    },
  });
}
