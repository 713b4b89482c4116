// Blobs in an S3-compatible object store (AWS S3, MinIO, Garage, Ceph RGW, R2):
// <prefix>/<aa>/<bb>/<sha256>, the same fan-out as on disk. Uploads are staged on local disk
// (the format parses them there) and committed by a streamed multipart upload with bounded
// parts, so no file is ever held in memory whole; downloads stream ranged GETs. An object is
// only ever written under its sha256 once its bytes are staged and hashed, and S3 makes a
// PUT visible whole or not at all, so a crash never leaves a partial blob under its name.
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import {
  CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException,
  type GetObjectCommandOutput, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { blobMissing } from '../core/errors.ts';
import type { BlobReader, BlobStore, ByteRange, StagedBlob, StageOptions, StoredBlob, TempFile } from './blob-store.ts';
import { CommitPins, StagingArea } from './staging.ts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const SHA256_RE = /^[0-9a-f]{64}$/;
/** CopyObject's limit: larger objects would need a multipart copy to renew their time. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
/** User metadata (x-amz-meta-…) holding the last commit's time in ms, set when a commit renews a blob. */
const COMMITTED = 'wharf-committed';

/** Where the blobs go and how to reach the store (docs/configuration.md). */
export interface S3Settings {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface S3BlobStoreOptions {
  /** The local staging directory (under the data directory). */
  staging: string;
  maxBytes?: number;
  /** Multipart part size (S3's minimum is 5 MiB) and parts in flight: memory per upload is about their product. */
  partSize?: number;
  queueSize?: number;
  /** ListObjectsV2 page size (S3's maximum is 1000). */
  pageSize?: number;
  /** Redirect downloads to presigned URLs valid this many seconds; 0 or unset: stream through Wharf. */
  presignSeconds?: number;
}

/** A store that cannot be reached or used at start, said in one line. */
export class BlobStoreError extends Error {
  override name = 'BlobStoreError';
}

/** `s3://bucket/some/prefix` → bucket and prefix; throws a message for anything else. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?$/.exec(url);
  // Bucket names: 3-63 of lowercase letters, digits, dots and hyphens (R2 and MinIO agree).
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1])) throw new Error(`${JSON.stringify(url)} is not s3://BUCKET or s3://BUCKET/PREFIX`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((s) => s === '.' || s === '..')) throw new Error(`${JSON.stringify(url)}: the prefix may not contain . or .. segments`);
  return { bucket: m[1], prefix };
}

export function s3ClientFor(s: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: s.forcePathStyle ?? false,
    // Checksums only where S3 requires them: several S3-compatible servers reject the SDK's
    // default trailing checksums, and every blob is verified by its sha256 when staged.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A download holds a connection for as long as the client takes: the SDK's default pool of
    // 50 would queue the 51st download behind the others.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000, httpAgent: { keepAlive: true, maxSockets: 1024 }, httpsAgent: { keepAlive: true, maxSockets: 1024 } },
  };
  if (s.endpoint) config.endpoint = s.endpoint;
  // Without explicit keys the SDK's chain applies: AWS_* variables, profiles, instance roles.
  if (s.accessKeyId && s.secretAccessKey) config.credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  return new S3Client(config);
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.$metadata?.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound';
}

export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly staging: StagingArea;
  private readonly pins = new CommitPins();
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number;
  private readonly presignSeconds: number;

  constructor(client: S3Client, where: { bucket: string; prefix: string }, opts: S3BlobStoreOptions) {
    this.client = client;
    this.bucket = where.bucket;
    this.prefix = where.prefix;
    this.staging = new StagingArea(opts.staging, opts.maxBytes);
    this.partSize = Math.max(opts.partSize ?? 8 * 1024 ** 2, 5 * 1024 ** 2);
    this.queueSize = opts.queueSize ?? 2;
    this.pageSize = opts.pageSize ?? 1000;
    this.presignSeconds = Math.max(0, Math.floor(opts.presignSeconds ?? 0));
  }

  /** Empties the staging area and checks that the bucket answers, so a wrong setting fails the start. */
  async init(): Promise<void> {
    await this.staging.init();
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix(), MaxKeys: 1 }));
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
      throw new BlobStoreError(`blob store s3://${this.bucket}/${this.prefix} cannot be listed: ${e.name}: ${e.message}${status}; check --blobs, WHARF_S3_ENDPOINT, WHARF_S3_REGION and the credentials`);
    }
  }

  private keyPrefix(): string {
    return this.prefix ? `${this.prefix}/` : '';
  }

  keyOf(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return `${this.keyPrefix()}${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
  }

  stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    return this.staging.stage(source, opts);
  }

  stageBuffer(data: Uint8Array): Promise<StagedBlob> {
    return this.staging.stageBuffer(data);
  }

  async commit(staged: StagedBlob): Promise<void> {
    // Pinned before the first await: a gc in this process leaves the blob alone from here on.
    this.pins.pin(staged);
    try {
      await this.pins.afterFrees(staged.sha256);
      await this.place(staged);
    } catch (err) {
      this.pins.unpin(staged);
      throw err;
    }
  }

  private async place(staged: StagedBlob): Promise<void> {
    const Key = this.keyOf(staged.sha256);
    const head = await this.head(staged.sha256);
    if (head && head.size === staged.size) {
      // Stored already: renew its time, since gc's grace period (in any process) counts from
      // the last commit of these bytes. Copying onto itself with new metadata is S3's touch;
      // the time is also kept in the metadata, since not every server moves LastModified then.
      if (staged.size <= MAX_COPY_BYTES) {
        await this.client.send(new CopyObjectCommand({
          Bucket: this.bucket, Key, CopySource: `${this.bucket}/${encodeURIComponent(Key).replace(/%2F/g, '/')}`,
          MetadataDirective: 'REPLACE', Metadata: { [COMMITTED]: String(Date.now()) }, ContentType: 'application/octet-stream',
        }));
      }
      await unlink(staged.path).catch(() => {});
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: createReadStream(staged.path, { highWaterMark: 1024 * 1024 }), ContentType: 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    await upload.done();
    const stored = await this.head(staged.sha256);
    if (!stored || stored.size !== staged.size) throw new Error(`blob ${staged.sha256}: the object store holds ${stored ? stored.size : 'no'} bytes after an upload of ${staged.size}`);
    await unlink(staged.path).catch(() => {});
  }

  private async head(sha256: string): Promise<{ size: number; mtimeMs: number } | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      const renewed = Number(r.Metadata?.[COMMITTED] ?? 0) || 0;
      return { size: r.ContentLength ?? 0, mtimeMs: Math.max(r.LastModified?.getTime() ?? 0, renewed) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async discard(staged: StagedBlob): Promise<void> {
    this.pins.unpin(staged);
    await unlink(staged.path).catch(() => {});
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.head(sha256)) !== null;
  }

  async downloadUrl(sha256: string, o: { filename: string; contentType: string }): Promise<string | null> {
    if (this.presignSeconds === 0) return null;
    // The object is named by its hash: the signed answer carries the file's own name and type.
    const command = new GetObjectCommand({
      Bucket: this.bucket, Key: this.keyOf(sha256),
      ResponseContentType: o.contentType,
      ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(o.filename)}`,
    });
    return getSignedUrl(this.client, command, { expiresIn: this.presignSeconds });
  }

  localPath(): undefined {
    return undefined;
  }

  /** A GET of the blob from `start` (to `end`, inclusive, or the end); BLOB_MISSING if there is none. */
  async get(sha256: string, start = 0, end?: number, signal?: AbortSignal): Promise<Readable> {
    return (await this.getObject(sha256, start, end, signal)).body;
  }

  private async getObject(sha256: string, start = 0, end?: number, signal?: AbortSignal): Promise<{ body: Readable; length: number }> {
    // No Range for a whole blob: an empty object has no byte 0 to ask for.
    const Range = start > 0 || end !== undefined ? `bytes=${start}-${end ?? ''}` : undefined;
    let r: GetObjectCommandOutput;
    try {
      r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256), Range }), { abortSignal: signal });
    } catch (err) {
      if (isNotFound(err)) throw blobMissing(sha256);
      throw err;
    }
    return { body: r.Body as Readable, length: r.ContentLength ?? 0 };
  }

  open(sha256: string, range?: ByteRange): Readable {
    const out = new PassThrough();
    const abort = new AbortController();
    out.once('close', () => abort.abort());
    this.get(sha256, range?.start ?? 0, range?.end, abort.signal).then((body) => {
      body.once('error', (err) => out.destroy(err));
      body.pipe(out);
      out.once('close', () => body.destroy());
    }, (err) => out.destroy(err));
    return out;
  }

  /**
   * Random access for the blob sender: one GET from the first position asked, read on while
   * the reads follow each other; a jump starts a new ranged GET. The first GET is sent at
   * open (from byte 0, where most downloads start), so a missing blob rejects here.
   */
  async openReader(sha256: string): Promise<BlobReader> {
    const first = await this.getObject(sha256);
    let body: Readable | null = first.body;
    // Past the end S3 answers 416, not an empty body: the size from the first GET says where it is.
    const size = first.length;
    let iter: AsyncIterator<Buffer> | null = null;
    let pos = 0;
    let pending: Buffer | null = null;
    let done = false;
    const drop = () => {
      body?.destroy();
      body = null;
      iter = null;
      pending = null;
      done = false;
    };
    return {
      read: async (buffer, offset, length, position) => {
        if (position >= size) return 0;
        if (position !== pos || !body) {
          drop();
          body = await this.get(sha256, position);
          pos = position;
        }
        if (!pending && !done) {
          iter ??= (body[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
          const next = await iter.next();
          if (next.done) done = true;
          else pending = next.value;
        }
        if (!pending) return 0;
        const n = Math.min(length, pending.length);
        pending.copy(buffer, offset, 0, n);
        pending = n < pending.length ? pending.subarray(n) : null;
        pos += n;
        return n;
      },
      close: async () => drop(),
    };
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
  }

  async *list(): AsyncIterable<StoredBlob> {
    const prefix = this.keyPrefix();
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: this.pageSize, ContinuationToken }));
      for (const o of page.Contents ?? []) {
        const rest = o.Key?.slice(prefix.length) ?? '';
        const sha256 = rest.slice(6);
        // Only <aa>/<bb>/<sha256> whose fan-out matches: anything else in the prefix is not a blob.
        if (!SHA256_RE.test(sha256) || rest !== `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`) continue;
        yield { sha256, size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async *listIds(): AsyncIterable<string[]> {
    // A listing page already carries sizes and times: nothing to save by leaving them out.
    let batch: string[] = [];
    for await (const b of this.list()) {
      batch.push(b.sha256);
      if (batch.length >= this.pageSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  stat(sha256: string): Promise<{ size: number; mtimeMs: number } | null> {
    return this.head(sha256);
  }

  free(sha256: string, opts: { graceMs: number; unused(): boolean | Promise<boolean> }): Promise<boolean> {
    return this.pins.freeIfStale(sha256, opts, () => this.head(sha256), () => this.delete(sha256));
  }

  listTemp(): Promise<TempFile[]> {
    return this.staging.listTemp();
  }

  removeTemp(name: string): Promise<void> {
    return this.staging.removeTemp(name);
  }
}
