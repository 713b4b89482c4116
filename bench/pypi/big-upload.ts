// Server memory while one large wheel is uploaded, by twine (multipart) and by the management
// API (raw streamed body, as `curl -T` sends it). Each method gets a fresh Wharf process so
// VmHWM (peak RSS since start) belongs to that upload alone.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeBigWheel, type BigWheel } from '../lib/stream-wheel.ts';
import { memoryOf, sampleRss, startWharf } from '../lib/processes.ts';
import { buildWheel, wheelFilename } from '../../test/helpers/python-dists.ts';
import { ADMIN_PASSWORD, createPypiRepo } from './admin.ts';

const run = promisify(execFile);

export interface UploadMemory {
  method: 'twine (multipart POST)' | 'management API (raw POST, curl -T)';
  bytes: number;
  seconds: number;
  baselineRss: number;
  peakRss: number;
  hwm: number;
  growth: number;
  samples: number;
}

export async function bigWheel(workDir: string, dataBytes: number): Promise<BigWheel> {
  const dir = join(workDir, `big-wheel-${dataBytes}`);
  const info = join(dir, 'wheel.json');
  if (existsSync(info)) return JSON.parse(await readFile(info, 'utf8')) as BigWheel;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const w = await writeBigWheel(dir, 'big-upload', '1.0', dataBytes);
  await writeFile(info, JSON.stringify(w));
  return w;
}

function twine(url: string, file: string): Promise<void> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TWINE_')) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', url, '-u', 'admin', '-p', ADMIN_PASSWORD, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`twine exited with ${code}: ${out.slice(-2000)}`))));
  });
}

async function apiUpload(base: string, repo: string, file: string, filename: string): Promise<void> {
  const { stdout } = await run('curl', ['-s', '-S', '-f', '-X', 'POST', '-T', file, '-u', `admin:${ADMIN_PASSWORD}`, '-H', 'content-type: application/octet-stream',
    `${base}/-/api/v1/repositories/${repo}/upload?filename=${encodeURIComponent(filename)}`], { timeout: 1_800_000, maxBuffer: 1024 * 1024 });
  if (!/"status":"created"/.test(stdout)) throw new Error(`API upload: ${stdout}`);
}

export async function bigUploadMemory(opts: { workDir: string; dataBytes: number; log: (m: string) => void }): Promise<UploadMemory[]> {
  const wheel = await bigWheel(opts.workDir, opts.dataBytes);
  opts.log(`big upload: ${wheel.filename}, ${wheel.size} bytes`);
  const results: UploadMemory[] = [];
  for (const method of ['twine (multipart POST)', 'management API (raw POST, curl -T)'] as const) {
    const data = join(opts.workDir, 'big-upload-data');
    await rm(data, { recursive: true, force: true });
    const wharf = await startWharf({ data, adminPassword: ADMIN_PASSWORD });
    try {
      await createPypiRepo(wharf.url, 'big');
      // Warm the same code path with a tiny wheel first, so the baseline has it loaded.
      const warmDir = join(opts.workDir, 'big-upload-warm');
      await mkdir(warmDir, { recursive: true });
      const warm = join(warmDir, wheelFilename({ name: 'warm-up', version: '1.0' }));
      await writeFile(warm, buildWheel({ name: 'warm-up', version: '1.0' }));
      if (method.startsWith('twine')) await twine(`${wharf.url}/big/`, warm);
      else await apiUpload(wharf.url, 'big', warm, wheelFilename({ name: 'warm-up', version: '1.0' }));
      await new Promise((r) => setTimeout(r, 1000));
      const baseline = (await memoryOf(wharf.pid)).rss;
      const sampler = sampleRss(wharf.pid, 100);
      const t0 = performance.now();
      if (method.startsWith('twine')) await twine(`${wharf.url}/big/`, wheel.path);
      else await apiUpload(wharf.url, 'big', wheel.path, wheel.filename);
      const seconds = (performance.now() - t0) / 1000;
      const { samples, hwm } = await sampler.stop();
      const peakRss = Math.max(...samples);
      const r: UploadMemory = { method, bytes: wheel.size, seconds, baselineRss: baseline, peakRss, hwm, growth: Math.max(peakRss, hwm) - baseline, samples: samples.length };
      results.push(r);
      opts.log(`big upload: ${method}: ${seconds.toFixed(1)} s, RSS ${Math.round(baseline / 2 ** 20)} → peak ${Math.round(peakRss / 2 ** 20)} MiB (VmHWM ${Math.round(hwm / 2 ** 20)} MiB)`);
    } finally {
      await wharf.stop();
      await rm(data, { recursive: true, force: true });
    }
  }
  return results;
}
