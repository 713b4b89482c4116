// Blobs on the local filesystem: <root>/<aa>/<bb>/<sha256>. Writes go to <root>/tmp first,
// are fsynced and renamed into place, so a crash never leaves a partial blob under its name.
import { createReadStream } from 'node:fs';
import { access, mkdir, open, opendir, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { blobMissing } from '../core/errors.ts';
import type { BlobReader, BlobStore, ByteRange, StagedBlob, StageOptions, StoredBlob, TempFile } from './blob-store.ts';
import { CommitPins, StagingArea } from './staging.ts';

const SHA256_RE = /^[0-9a-f]{64}$/;
const HEX2_RE = /^[0-9a-f]{2}$/;

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly staging: StagingArea;
  private readonly pins = new CommitPins();
  /** Staged blobs moved into place: their staged file is gone, and discard has nothing to delete. */
  private readonly placed = new WeakSet<StagedBlob>();

  /** `staging`: a worker's own staging area (on the same filesystem: commits rename from it); default <root>/tmp. */
  constructor(root: string, opts: { maxBytes?: number; staging?: string } = {}) {
    this.root = root;
    this.staging = new StagingArea(opts.staging ?? join(root, 'tmp'), opts.maxBytes);
  }

  init(): Promise<void> {
    return this.staging.init();
  }

  pathOf(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    return this.staging.stage(source, opts);
  }

  stageBuffer(data: Uint8Array): Promise<StagedBlob> {
    return this.staging.stageBuffer(data);
  }

  async commit(staged: StagedBlob): Promise<void> {
    const dest = this.pathOf(staged.sha256);
    // Pinned before the first await: a gc from here on leaves the blob alone.
    this.pins.pin(staged);
    try {
      await this.pins.afterFrees(staged.sha256);
      await this.place(staged, dest);
      this.placed.add(staged);
    } catch (err) {
      this.pins.unpin(staged);
      throw err;
    }
  }

  private async place(staged: StagedBlob, dest: string): Promise<void> {
    if (await this.has(staged.sha256)) {
      await unlink(staged.path).catch(() => {});
      // Renew its time: gc's grace period counts from the last commit of these bytes.
      const now = new Date();
      await utimes(dest, now, now).catch(() => {});
      return;
    }
    if (!staged.synced) {
      const fh = await open(staged.path, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
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
    this.pins.unpin(staged);
    // An unlink that fails costs a thread-pool round trip and an error object: twice per upload.
    if (this.placed.has(staged)) return;
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

  async *listIds(): AsyncIterable<string[]> {
    for (const a of await readdir(this.root)) {
      if (!HEX2_RE.test(a)) continue;
      for (const b of await readdir(join(this.root, a)).catch(() => [] as string[])) {
        if (!HEX2_RE.test(b)) continue;
        const names = await readdir(join(this.root, a, b)).catch(() => [] as string[]);
        const ids = names.filter((n) => SHA256_RE.test(n) && n.startsWith(a + b));
        if (ids.length) yield ids;
      }
    }
  }

  async stat(sha256: string): Promise<{ size: number; mtimeMs: number } | null> {
    const st = await stat(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return st?.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  }

  free(sha256: string, opts: { graceMs: number; unused(): boolean | Promise<boolean> }): Promise<boolean> {
    const look = () => stat(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return this.pins.freeIfStale(sha256, opts, look, () => this.delete(sha256));
  }

  listTemp(): Promise<TempFile[]> {
    return this.staging.listTemp();
  }

  removeTemp(name: string): Promise<void> {
    return this.staging.removeTemp(name);
  }
}
