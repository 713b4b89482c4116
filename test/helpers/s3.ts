// An S3-compatible server for tests: s3rver (npm) in a child process on a free port of
// 127.0.0.1, storing into a temporary directory, with one bucket made at start. Its only
// credentials are s3rver's built-in account (S3RVER / S3RVER); signatures are checked.
// OpenSSL's legacy provider: s3rver makes ListObjectsV2 continuation tokens with DES, which
// Node's OpenSSL 3 refuses otherwise (every listing longer than a page would fail with a 500).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export interface TestS3 {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Where s3rver keeps the objects (gone after close). */
  dir: string;
  /** The environment `wharf serve` reads its S3 settings from. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const CHILD = `
const S3rver = require('s3rver');
const [directory, bucket] = process.argv.slice(1);
const s = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
s.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'), (err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => s.close().then(() => process.exit(0)));
`;

export async function startS3(opts: { bucket?: string } = {}): Promise<TestS3> {
  const bucket = opts.bucket ?? 'wharf-test';
  const dir = await mkdtemp(join(tmpdir(), 'wharf-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD, dir, bucket], { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(import.meta.dirname, '../..') });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };
  return {
    endpoint,
    bucket,
    ...creds,
    dir,
    env: {
      WHARF_S3_ENDPOINT: endpoint,
      WHARF_S3_REGION: creds.region,
      WHARF_S3_FORCE_PATH_STYLE: '1',
      WHARF_S3_ACCESS_KEY_ID: creds.accessKeyId,
      WHARF_S3_SECRET_ACCESS_KEY: creds.secretAccessKey,
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
