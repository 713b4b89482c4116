// Blobs on the local filesystem: <root>/<aa>/<bb>/<sha256>. Writes go to <root>/tmp first,
// are fsynced and renamed into place, so a crash never leaves a partial blob under its name.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tooLarge } from '../core/errors.ts';
import type { BlobStore, ByteRange, StagedBlob } from './blob-store.ts';

const SHA256_RE = /^[0-9a-f]{64}$/;

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly tmp: string;

  /** The largest blob any stage accepts unless the caller asks for less. */
  private readonly maxBytes: number;

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

  async stage(source: Readable, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<StagedBlob> {
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
    const out = createWriteStream(path, { flags: 'wx' });
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
    if (await this.has(staged.sha256)) {
      await unlink(staged.path).catch(() => {});
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

  async delete(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
