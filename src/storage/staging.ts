// The staging area every blob store uses: uploads are streamed to a local temp file while
// hashed (sha256, and md5 unless the caller defers it), so the format can parse them from disk, before they are committed
// to the store or discarded. A store on local disk renames from here; an object store
// uploads from here.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tooLarge } from '../core/errors.ts';
import type { StagedBlob, StageOptions, TempFile } from './blob-store.ts';

export class StagingArea {
  readonly dir: string;
  /** The largest blob any stage accepts unless the caller asks for less. */
  private readonly maxBytes: number;

  constructor(dir: string, maxBytes = Infinity) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /** Empty the area: staged files of a previous process were never committed, nothing names them. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  private newPath(): string {
    return join(this.dir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    const path = this.newPath();
    const sha = createHash('sha256');
    const md5 = opts.md5 === false ? null : createHash('md5');
    const sha1 = opts.allHashes ? createHash('sha1') : null;
    const sha512 = opts.allHashes ? createHash('sha512') : null;
    const max = Math.min(opts.maxBytes ?? Infinity, this.maxBytes);
    let size = 0;
    const keepBytes = opts.keepBytes ?? 0;
    let kept: Buffer[] | null = keepBytes > 0 ? [] : null;
    const onReceived = opts.onReceived;
    const onHashed = opts.onHashed;
    let sha256: string | null = null;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) return cb(tooLarge(`upload exceeds the limit of ${max} bytes`));
        sha.update(chunk);
        md5?.update(chunk);
        sha1?.update(chunk);
        sha512?.update(chunk);
        if (kept) {
          if (size <= keepBytes) kept.push(chunk);
          else kept = null;
        }
        onReceived?.(size, chunk);
        cb(null, chunk);
      },
      flush(cb) {
        if (onHashed) {
          sha256 = sha.digest('hex');
          onHashed(sha256, size);
        }
        cb();
      },
    });
    // fsynced before it is closed (`flush`), in the round trip that closes it: a commit then
    // need not open it again to fsync it. A proxy's followable file is fsynced at commit.
    const out = opts.onWritten ? followableFile(path, opts.onWritten) : createWriteStream(path, { flags: 'wx', flush: true });
    try {
      await pipeline(source, hasher, out, { signal: opts.signal });
    } catch (err) {
      await unlink(path).catch(() => {});
      throw err;
    }
    const staged: StagedBlob = { sha256: sha256 ?? sha.digest('hex'), md5: md5?.digest('hex') ?? '', size, path, ...(opts.onWritten ? {} : { synced: true }) };
    if (sha1 && sha512) {
      staged.sha1 = sha1.digest('hex');
      staged.sha512 = sha512.digest('hex');
    }
    if (kept) staged.data = Buffer.concat(kept, size);
    return staged;
  }

  async stageBuffer(data: Uint8Array): Promise<StagedBlob> {
    const path = this.newPath();
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

  async listTemp(): Promise<TempFile[]> {
    const out: TempFile[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const st = await stat(join(this.dir, name)).catch(() => null);
      if (st) out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  async removeTemp(name: string): Promise<void> {
    if (name.includes('/') || name === '..' || name === '.') throw new Error(`not a temp file name: ${name}`);
    await rm(join(this.dir, name), { recursive: true, force: true });
  }
}

/** The hex digest of a local file. */
export async function fileDigest(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What keeps gc from freeing a blob an upload is committing: a commit pins its staged blob
 * until the upload discards it (after the rows naming the blob are written or refused), and
 * a free under way makes a commit of the same bytes wait, then store them afresh.
 */
export class CommitPins {
  /** Blobs committed whose caller has not discarded them yet: sha256 → count. */
  private readonly committing = new Map<string, number>();
  private readonly pinned = new WeakSet<StagedBlob>();
  private readonly deleting = new Map<string, Promise<void>>();

  /** Call before the first await of a commit. */
  pin(staged: StagedBlob): void {
    if (this.pinned.has(staged)) return;
    this.pinned.add(staged);
    this.committing.set(staged.sha256, (this.committing.get(staged.sha256) ?? 0) + 1);
  }

  unpin(staged: StagedBlob): void {
    if (!this.pinned.has(staged)) return;
    this.pinned.delete(staged);
    const n = (this.committing.get(staged.sha256) ?? 1) - 1;
    if (n > 0) this.committing.set(staged.sha256, n);
    else this.committing.delete(staged.sha256);
  }

  isCommitting(sha256: string): boolean {
    return this.committing.has(sha256);
  }

  /** Resolves once no free of these bytes is under way. */
  async afterFrees(sha256: string): Promise<void> {
    for (let d = this.deleting.get(sha256); d; d = this.deleting.get(sha256)) await d;
  }

  /** Runs `fn` as the only free of `sha256`; false at once if a commit or another free holds it. */
  async freeing(sha256: string, fn: () => Promise<boolean>): Promise<boolean> {
    if (this.committing.has(sha256) || this.deleting.has(sha256)) return false;
    let done!: () => void;
    this.deleting.set(sha256, new Promise<void>((r) => (done = r)));
    try {
      return await fn();
    } finally {
      this.deleting.delete(sha256);
      done();
    }
  }

  /**
   * gc's free, the same for every store: as the only free of `sha256`, keep a blob committed
   * within the grace period or still used, else delete it. `look` gives the stored blob's
   * commit time (null if absent); `remove` deletes it.
   */
  freeIfStale(sha256: string, opts: { graceMs: number; unused(): boolean | Promise<boolean> }, look: () => Promise<{ mtimeMs: number } | null>, remove: () => Promise<void>): Promise<boolean> {
    return this.freeing(sha256, async () => {
      const stored = await look();
      if (stored && Date.now() - stored.mtimeMs < opts.graceMs) return false;
      // A commit that began while we looked waits for us: decide for it now. One that begins
      // while `unused` asks the database waits too, and places the bytes again after the delete.
      if (this.isCommitting(sha256) || !(await opts.unused())) return false;
      if (stored) await remove();
      return true;
    });
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
