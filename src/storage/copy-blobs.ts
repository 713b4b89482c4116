// `wharf migrate`'s blob half: each blob streamed from one store into another through the
// BlobStore contract. The bytes are staged (hashed as they stream) and committed only if they
// hash to the blob's name, so a corrupt blob never reaches the target; a blob the target
// already has is not read again, so a rerun after an interruption costs one lookup per blob
// copied before it.
import type { BlobStore } from './blob-store.ts';

export interface BlobRow {
  sha256: string;
  size: number;
}

/** A blob whose bytes do not hash to its name: the migration stops on it. */
export class CorruptBlobError extends Error {
  override name = 'CorruptBlobError';
  readonly sha256: string;
  readonly actual: string;
  constructor(sha256: string, actual: string, size: number) {
    super(`blob ${sha256} is corrupt: its ${size} bytes hash to ${actual}`);
    this.sha256 = sha256;
    this.actual = actual;
  }
}

export type BlobOutcome = 'copied' | 'present' | 'missing';

/** Copy one blob; `copied` only once the target holds bytes that hash to `blob.sha256`. */
export async function copyBlob(from: BlobStore, to: BlobStore, blob: BlobRow): Promise<BlobOutcome> {
  if (await to.has(blob.sha256)) return 'present';
  if (!(await from.has(blob.sha256))) return 'missing';
  const staged = await to.stage(from.open(blob.sha256));
  try {
    if (staged.sha256 !== blob.sha256) throw new CorruptBlobError(blob.sha256, staged.sha256, staged.size);
    await to.commit(staged);
  } finally {
    await to.discard(staged);
  }
  return 'copied';
}

export interface BlobCopyResult {
  blobs: number;
  copied: number;
  present: number;
  /** Bytes read and written (blobs already present are not counted). */
  bytes: number;
  missingCount: number;
  /** The first missing blobs (at most MISSING_LISTED). */
  missing: BlobRow[];
}

const MISSING_LISTED = 1000;

/**
 * Copies the blobs it is given, a batch at a time, `concurrency` at once, and counts what it
 * did. The first corrupt blob stops the batch (once the blobs in flight are done) with a
 * CorruptBlobError.
 */
export class BlobCopier {
  readonly result: BlobCopyResult = { blobs: 0, copied: 0, present: 0, bytes: 0, missingCount: 0, missing: [] };
  private readonly from: BlobStore;
  private readonly to: BlobStore;
  private readonly concurrency: number;
  private readonly onBlob?: (done: number, bytes: number) => void;
  private seenBytes = 0;

  constructor(from: BlobStore, to: BlobStore, opts: { concurrency?: number; onBlob?(done: number, bytes: number): void } = {}) {
    this.from = from;
    this.to = to;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.onBlob = opts.onBlob;
  }

  async batch(blobs: readonly BlobRow[]): Promise<void> {
    let next = 0;
    let failure: unknown = null;
    const r = this.result;
    const worker = async () => {
      while (failure === null && next < blobs.length) {
        const b = blobs[next++];
        try {
          const outcome = await copyBlob(this.from, this.to, b);
          if (outcome === 'copied') {
            r.copied++;
            r.bytes += b.size;
          } else if (outcome === 'present') {
            r.present++;
          } else {
            r.missingCount++;
            if (r.missing.length < MISSING_LISTED) r.missing.push(b);
          }
        } catch (err) {
          failure ??= err;
        }
        r.blobs++;
        this.seenBytes += b.size;
        this.onBlob?.(r.blobs, this.seenBytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, blobs.length) }, worker));
    if (failure !== null) throw failure;
  }
}
