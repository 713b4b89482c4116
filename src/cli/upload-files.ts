// Sending many local files to a repository: one request per file, or many per request (the
// batch API). Shared by `wharf upload`/`import` and every `wharf migrate-from` source.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WharfApiError, type WharfClient } from '../client/client.ts';
import { ProgressBar } from './progress.ts';

/** Every regular file below a directory, sorted; dot files and dot folders are skipped. */
export async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(p)));
    else if (entry.isFile()) found.push(p);
  }
  return found.sort();
}

export interface UploadSummary {
  created: number;
  existing: number;
  failed: { file: string; reason: string }[];
  bytes: number;
}

/** What became of each file, for a caller that reports file by file (a migration). */
export type FileOutcome = (file: string, status: 'created' | 'exists' | 'failed', reason?: string) => void;

export async function uploadMany(client: WharfClient, repo: string, files: string[], fields: Record<string, string>, concurrency: number): Promise<UploadSummary> {
  const summary: UploadSummary = { created: 0, existing: 0, failed: [], bytes: 0 };
  const total = files.length;
  let next = 0;
  let done = 0;
  const bar = new ProgressBar(`files to ${repo}`, undefined, 'files');
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      try {
        const size = (await stat(file)).size;
        const res = await client.upload(repo, file, { fields });
        if (res.status === 'created') summary.created++;
        else summary.existing++;
        summary.bytes += size;
      } catch (err) {
        if (!(err instanceof WharfApiError) || err.status >= 500) throw err;
        summary.failed.push({ file, reason: err.message });
      }
      done++;
      bar.update(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  bar.done();
  return summary;
}

/** Files per batch request, and bytes: a batch is answered once all of it is published. */
const BATCH_FILES = 250;
const BATCH_BYTES = 64 * 1024 * 1024;

/** Cut the files into batches; a detached signature stays with the file before it (its package). */
async function batchesOf(files: string[]): Promise<{ files: string[]; bytes: number }[]> {
  const batches: { files: string[]; bytes: number }[] = [];
  let cur: { files: string[]; bytes: number } = { files: [], bytes: 0 };
  for (const [i, file] of files.entries()) {
    const size = (await stat(file)).size;
    const companion = i > 0 && file === `${files[i - 1]}.sig`;
    if (cur.files.length && !companion && (cur.files.length >= BATCH_FILES || cur.bytes + size > BATCH_BYTES)) {
      batches.push(cur);
      cur = { files: [], bytes: 0 };
    }
    cur.files.push(file);
    cur.bytes += size;
  }
  if (cur.files.length) batches.push(cur);
  return batches;
}

/** The same summary as uploadMany, many files per request (the batch API). */
export async function uploadBatches(client: WharfClient, repo: string, files: string[], fields: Record<string, string>, concurrency: number, fieldsOf?: (file: string) => Record<string, string> | undefined, onFile?: FileOutcome): Promise<UploadSummary> {
  const summary: UploadSummary = { created: 0, existing: 0, failed: [], bytes: 0 };
  const batches = await batchesOf(files);
  let next = 0;
  let done = 0;
  const bar = new ProgressBar(`files to ${repo}`, undefined, 'files');
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      try {
        const res = await client.uploadBatch(repo, batch.files, { fields, ...(fieldsOf ? { fieldsOf } : {}) });
        for (const [i, file] of batch.files.entries()) {
          const r = res.results[i];
          if (!r) {
            summary.failed.push({ file, reason: res.error?.message ?? 'no answer for this file' });
            onFile?.(file, 'failed', res.error?.message ?? 'no answer for this file');
          } else if ('error' in r) {
            if (r.error.status >= 500) throw new WharfApiError(r.error.status, r.error.code, `${file}: ${r.error.message}`);
            summary.failed.push({ file, reason: r.error.message });
            onFile?.(file, 'failed', r.error.message);
          } else {
            if (r.status === 'created') summary.created++;
            else summary.existing++;
            onFile?.(file, r.status === 'created' ? 'created' : 'exists');
            summary.bytes += (await stat(file)).size;
          }
        }
      } catch (err) {
        if (!(err instanceof WharfApiError) || err.status >= 500) throw err;
        for (const file of batch.files) {
          summary.failed.push({ file, reason: err.message });
          onFile?.(file, 'failed', err.message);
        }
      }
      done += batch.files.length;
      bar.update(done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  bar.done();
  return summary;
}
