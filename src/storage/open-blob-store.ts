// Which blob store a data directory uses: files under <data>/blobs (the embedded default), or
// an S3-compatible bucket (`--blobs s3://bucket/prefix`), staged under <data>/blobs/tmp either way.
import { join } from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { parseS3Url, s3ClientFor, S3BlobStore, type S3Settings } from './s3-blob-store.ts';

export interface BlobSettings {
  /** `s3://bucket/prefix`, or undefined for files on disk. */
  blobs?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle?: boolean;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  /** Seconds a presigned download URL is valid; 0 or unset: downloads stream through Wharf. */
  s3PresignSeconds?: number;
}

export type OpenedBlobStore = BlobStore & { init(): Promise<void> };

/**
 * The store for `data`, not yet initialised (`init` empties the staging area and checks the
 * store). `staging` puts the staging area elsewhere than <data>/blobs/tmp (a worker's own, below it).
 */
export function createBlobStore(data: string, settings: BlobSettings, opts: { maxBytes?: number; staging?: string } = {}): OpenedBlobStore {
  if (!settings.blobs) return new FsBlobStore(join(data, 'blobs'), opts);
  const where = parseS3Url(settings.blobs);
  const s3: S3Settings = {
    ...where,
    endpoint: settings.s3Endpoint,
    region: settings.s3Region,
    forcePathStyle: settings.s3ForcePathStyle,
    accessKeyId: settings.s3AccessKeyId,
    secretAccessKey: settings.s3SecretAccessKey,
  };
  return new S3BlobStore(s3ClientFor(s3), where, { staging: opts.staging ?? join(data, 'blobs', 'tmp'), maxBytes: opts.maxBytes, presignSeconds: settings.s3PresignSeconds });
}
