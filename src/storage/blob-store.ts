// The contract every blob store implements. Content is addressed by its sha256; a blob is
// first staged (streamed to a local temp file while hashed, so the format can parse it),
// then committed once the upload is accepted, or discarded.
import type { Readable } from 'node:stream';

export interface StagedBlob {
  sha256: string;
  md5: string;
  size: number;
  /** A local file holding the bytes until commit or discard; formats parse it from here. */
  path: string;
  /** Present when staged with `allHashes` (APT lists them), hashed as the bytes arrived. */
  sha1?: string;
  sha512?: string;
  /** The staged file was fsynced as it was closed: committing it needs no fsync of its own. */
  synced?: boolean;
  /** The bytes too, when staged with `keepBytes` and no larger: a format parses them without reading the file again. */
  data?: Buffer;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** A stored blob as the store sees it, without reading it. */
export interface StoredBlob {
  sha256: string;
  size: number;
  /** Last commit of these bytes (ms since the epoch): a commit of bytes already stored renews it. */
  mtimeMs: number;
}

/** A file left in the staging area (an upload in flight, or one a crash interrupted). */
export interface TempFile {
  name: string;
  size: number;
  mtimeMs: number;
}

/** An opened blob, read in chunks by whoever sends it (see server/http/blob-sender.ts). */
export interface BlobReader {
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; 0 at the end of the blob. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Uploads up to this size are also kept in memory while staged (`keepBytes`), so a format
 * parses them without reading the file back: a burst of small packages then costs no reads.
 * Eight uploads at once hold at most 8 MiB this way.
 */
export const SMALL_UPLOAD_BYTES = 1024 * 1024;

export interface StageOptions {
  maxBytes?: number;
  signal?: AbortSignal;
  /** Told of each chunk as it arrives, hashed but before it is written (the caller may keep it). */
  onReceived?(bytes: number, chunk: Buffer): void;
  /** Told after each write how many bytes the file at `path` holds. */
  onWritten?(path: string, bytes: number): void;
  /**
   * Told once the source has ended, with its sha256 and size, before the last bytes are
   * written and the file closed (a proxy verifies its download without waiting for the disk).
   */
  onHashed?(sha256: string, size: number): void;
  /**
   * False: hash sha256 only and leave `md5` empty (a proxy's cached content: nothing lists
   * its md5, and its first client should not wait for one).
   */
  md5?: boolean;
  /** Also SHA-1 and SHA-512, in the same pass (a format that lists them need not read the file again). */
  allHashes?: boolean;
  /** Also keep the bytes in memory (`data`) if there are no more than this many (a small upload). */
  keepBytes?: number;
}

export interface BlobStore {
  /**
   * Stream `source` to a temp file, hashing as it goes; refuses more than `maxBytes`.
   * `onReceived` and `onWritten` let a reader follow the download while it is staged (a
   * proxy's first client).
   */
  stage(source: Readable, opts?: StageOptions): Promise<StagedBlob>;
  stageBuffer(data: Uint8Array): Promise<StagedBlob>;
  /**
   * Move a staged blob into place durably (fsync, rename); if the blob exists, only renew
   * its time. From commit until `discard(staged)` (callers discard in `finally`, after the
   * rows naming the blob are written or refused) `free` never deletes it.
   */
  commit(staged: StagedBlob): Promise<void>;
  discard(staged: StagedBlob): Promise<void>;
  has(sha256: string): Promise<boolean>;
  /** A local file holding the blob, for readers that need random access (zip); undefined if none. */
  localPath(sha256: string): string | undefined;
  /**
   * A short-lived URL the client may download the blob from directly (an S3 presigned URL),
   * when the store is configured for it; null to have the server send the bytes itself.
   */
  downloadUrl?(sha256: string, o: { filename: string; contentType: string }): Promise<string | null>;
  open(sha256: string, range?: ByteRange): Readable;
  /** Opens a blob for reading; rejects with a BLOB_MISSING WharfError if the store has lost it. */
  openReader(sha256: string): Promise<BlobReader>;
  delete(sha256: string): Promise<void>;
  /** Every stored blob (for gc and fsck), in no particular order. */
  list(): AsyncIterable<StoredBlob>;
  /**
   * Every stored blob's sha256, in batches (a directory, a listing page), without sizes or
   * times: what gc walks, since a stat per blob is most of the cost of list() on a filesystem.
   */
  listIds(): AsyncIterable<string[]>;
  /** Size and last commit time of one stored blob; null if the store has none. */
  stat(sha256: string): Promise<{ size: number; mtimeMs: number } | null>;
  /**
   * Delete a blob unless an upload is committing it or it was committed less than `graceMs`
   * ago. `unused` is asked last, right before the delete: it checks that no row names the blob
   * (and drops the blob's own row). A commit of these bytes that begins meanwhile waits for
   * the free, then stores them again. True if the blob is gone.
   */
  free(sha256: string, opts: { graceMs: number; unused(): boolean | Promise<boolean> }): Promise<boolean>;
  /** Files in the staging area. */
  listTemp(): Promise<TempFile[]>;
  removeTemp(name: string): Promise<void>;
}
