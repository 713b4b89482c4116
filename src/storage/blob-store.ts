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
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface BlobStore {
  /** Stream `source` to a temp file, hashing as it goes; refuses more than `maxBytes`. */
  stage(source: Readable, opts?: { maxBytes?: number; signal?: AbortSignal }): Promise<StagedBlob>;
  stageBuffer(data: Uint8Array): Promise<StagedBlob>;
  /** Move a staged blob into place durably (fsync, rename); a no-op if the blob exists. */
  commit(staged: StagedBlob): Promise<void>;
  discard(staged: StagedBlob): Promise<void>;
  has(sha256: string): Promise<boolean>;
  /** A local file holding the blob, for readers that need random access (zip); undefined if none. */
  localPath(sha256: string): string | undefined;
  open(sha256: string, range?: ByteRange): Readable;
  delete(sha256: string): Promise<void>;
}
