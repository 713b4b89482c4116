// The CLI's progress bar: bytes for a download or upload, a plain count for files (a batch
// import or a migration), not "500 B/1000 B" for 500 of 1,000 files.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ProgressBar } from '../../../src/cli/progress.ts';

function written(fn: () => void): string {
  const real = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = real;
  }
  return out;
}

it('counts files as files and bytes as bytes', () => {
  const files = written(() => new ProgressBar('files to deb', true, 'files').update(500, 1000));
  assert.match(files, /50% 500\/1,000 files to deb$/);
  const bytes = written(() => new ProgressBar('x.deb', true).update(512, 2048));
  assert.match(bytes, /25% 512 B\/2\.0 KiB x\.deb$/);
});
