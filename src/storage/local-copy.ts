// For readers that need a file (zip's random access): the blob's own file where the store
// has one, otherwise a copy staged for the call and removed after it.
import type { BlobStore } from './blob-store.ts';

export async function withLocalFile<T>(blobs: BlobStore, sha256: string, fn: (path: string) => Promise<T>): Promise<T> {
  const path = blobs.localPath(sha256);
  if (path) return fn(path);
  const staged = await blobs.stage(blobs.open(sha256));
  try {
    return await fn(staged.path);
  } finally {
    await blobs.discard(staged);
  }
}
