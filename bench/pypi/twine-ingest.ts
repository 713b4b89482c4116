// Ingest rate of 1,000 tiny wheels by one `twine upload`: password (Basic admin:password,
// which the server verifies once and then remembers) against an API token, interleaved,
// with a transport-only reference: curl PUT-ing the same files to nginx's WebDAV module.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildWheel, wheelFilename } from '../../test/helpers/python-dists.ts';
import { startNginx, type RunningServer } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';
import { ADMIN_PASSWORD, createPypiRepo, createToken } from './admin.ts';

const run = promisify(execFile);

export interface IngestRun {
  method: 'twine, password' | 'twine, token' | 'curl PUT to nginx (dav)';
  files: number;
  seconds: number;
  filesPerSec: number;
  perFileMs: number[];
  perFileMedianMs: number;
}

/** `count` tiny wheels (100 projects × count/100 versions), written once and reused. */
export async function tinyWheels(workDir: string, count: number): Promise<{ dir: string; files: string[] }> {
  const dir = join(workDir, `tiny-wheels-${count}`);
  const perProject = Math.max(1, Math.ceil(count / 100));
  const specs = Array.from({ length: count }, (_, i) => ({ name: `tiny-${String(Math.floor(i / perProject)).padStart(3, '0')}`, version: `0.${i % perProject}` }));
  const files = specs.map((s) => join(dir, wheelFilename(s)));
  if (!existsSync(join(dir, 'complete'))) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const [i, s] of specs.entries()) await writeFile(files[i], buildWheel({ ...s, summary: 'tiny' }));
    await writeFile(join(dir, 'complete'), '');
  }
  return { dir, files };
}

/** Runs twine once; each "Uploading <file>" line is timestamped as it arrives (unbuffered Python). */
async function twineUpload(url: string, user: string, password: string, files: string[]): Promise<{ seconds: number; perFileMs: number[] }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('TWINE_')) delete env[k];
  const t0 = performance.now();
  const child = spawn('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', url, '-u', user, '-p', password, ...files], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stamps: number[] = [];
  let buf = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (/^Uploading \S+\.whl/.test(line.trim())) stamps.push(performance.now());
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => { err += d; });
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const end = performance.now();
  if (code !== 0) throw new Error(`twine exited with ${code}: ${err.slice(-2000)}${buf.slice(-2000)}`);
  if (stamps.length !== files.length) throw new Error(`twine printed ${stamps.length} "Uploading" lines for ${files.length} files`);
  // The gap between one file's line and the next is that file's upload, as twine sees it.
  stamps.push(end);
  const perFileMs = stamps.slice(1).map((t, i) => t - stamps[i]).slice(0, -1);
  return { seconds: (end - t0) / 1000, perFileMs };
}

async function curlPut(baseUrl: string, files: string[], dir: string): Promise<{ seconds: number; perFileMs: number[] }> {
  // One curl, one keep-alive connection: -T with a {a,b,...} glob PUTs each file to base/<name>.
  const names = files.map((f) => f.slice(dir.length + 1));
  const t0 = performance.now();
  const { stdout } = await run('curl', ['-s', '-f', '-w', '%{http_code} %{time_total}\\n', '-T', `${dir}/{${names.join(',')}}`, `${baseUrl}/`], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  const seconds = (performance.now() - t0) / 1000;
  const lines = stdout.trim().split('\n').filter((l) => /^\d{3} /.test(l));
  if (lines.length !== files.length || lines.some((l) => !/^20[14] /.test(l))) throw new Error(`curl PUT: unexpected result ${stdout.slice(0, 500)}`);
  return { seconds, perFileMs: lines.map((l) => Number(l.split(' ')[1]) * 1000) };
}

export async function twineIngest(opts: { wharf: RunningServer; workDir: string; count: number; rounds: number; log: (m: string) => void }): Promise<IngestRun[]> {
  const { files, dir } = await tinyWheels(opts.workDir, opts.count);
  const prefix = join(opts.workDir, 'nginx-dav');
  await rm(prefix, { recursive: true, force: true });
  const davRoot = join(prefix, 'www');
  await mkdir(davRoot, { recursive: true });
  const nginx = await startNginx(prefix, davRoot, { dav: true });
  const runs: IngestRun[] = [];
  const record = (method: IngestRun['method'], r: { seconds: number; perFileMs: number[] }) => {
    const x = { method, files: files.length, seconds: r.seconds, filesPerSec: files.length / r.seconds, perFileMs: r.perFileMs, perFileMedianMs: median(r.perFileMs) };
    runs.push(x);
    opts.log(`ingest: ${method}: ${x.filesPerSec.toFixed(1)} files/s, median ${x.perFileMedianMs.toFixed(1)} ms per file`);
  };
  try {
    const stamp = Date.now().toString(36);
    for (let r = 0; r < opts.rounds; r++) {
      const pwRepo = `ingest-pw-${stamp}-${r}`;
      const tokRepo = `ingest-tok-${stamp}-${r}`;
      await createPypiRepo(opts.wharf.url, pwRepo);
      await createPypiRepo(opts.wharf.url, tokRepo);
      const token = await createToken(opts.wharf.url, `bench-${stamp}-${r}`, [tokRepo]);
      const order = r % 2 === 0 ? ['pw', 'tok', 'dav'] : ['dav', 'tok', 'pw'];
      for (const which of order) {
        if (which === 'pw') record('twine, password', await twineUpload(`${opts.wharf.url}/${pwRepo}/`, 'admin', ADMIN_PASSWORD, files));
        else if (which === 'tok') record('twine, token', await twineUpload(`${opts.wharf.url}/${tokRepo}/`, '__token__', token, files));
        else {
          await rm(join(davRoot, `r${r}`), { recursive: true, force: true });
          record('curl PUT to nginx (dav)', await curlPut(`${nginx.url}/r${r}`, files, dir));
        }
      }
    }
  } finally {
    await nginx.stop();
  }
  return runs;
}
