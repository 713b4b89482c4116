// Committing a large staged upload to the filesystem store and to an S3 store (s3rver, started
// here in a child process): throughput and this process's peak RSS while it runs, each store
// in its own process so the peaks do not mix. `node bench/run.ts blob-upload [--mib 100]`.
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FsBlobStore } from '../src/storage/fs-blob-store.ts';
import { s3ClientFor, S3BlobStore } from '../src/storage/s3-blob-store.ts';
import { startS3 } from '../test/helpers/s3.ts';

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(spawnSync('cat', [`/proc/${process.pid}/status`], { encoding: 'utf8' }).stdout);
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1024 ** 2;
}

async function one(kind: string, mib: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-bench-blob-'));
  const s3 = kind === 's3' ? await startS3() : null;
  try {
    const src = join(dir, 'src.bin');
    // Written in 1 MiB pieces so the source itself never sits in memory.
    for (let i = 0; i < mib; i++) await writeFile(src, randomBytes(1024 * 1024), { flag: 'a' });
    const store = s3
      ? new S3BlobStore(s3ClientFor({ bucket: s3.bucket, prefix: 'b', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }), { bucket: s3.bucket, prefix: 'b' }, { staging: join(dir, 'tmp') })
      : new FsBlobStore(join(dir, 'blobs'));
    await store.init();
    if (global.gc) global.gc();
    const before = process.memoryUsage().rss / 1024 ** 2;
    const t0 = performance.now();
    const staged = await store.stage(createReadStream(src));
    const t1 = performance.now();
    await store.commit(staged);
    await store.discard(staged);
    const t2 = performance.now();
    process.stdout.write(JSON.stringify({ kind, mib, stageMs: Math.round(t1 - t0), commitMs: Math.round(t2 - t1), stageAndCommitMiBps: +(mib / ((t2 - t0) / 1000)).toFixed(1), commitMiBps: +(mib / ((t2 - t1) / 1000)).toFixed(1), rssBeforeMiB: Math.round(before), peakRssMiB: Math.round(peakRssMiB()) }) + '\n');
  } finally {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--mib');
  const mib = i >= 0 ? Number(argv[i + 1]) : 100;
  const only = argv.indexOf('--only');
  if (only >= 0) return one(argv[only + 1], mib);
  for (let round = 0; round < 3; round++) {
    for (const kind of ['fs', 's3']) {
      const r = spawnSync(process.execPath, [join(import.meta.dirname, 'run.ts'), 'blob-upload', '--mib', String(mib), '--only', kind], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(r.stdout);
    }
  }
}
