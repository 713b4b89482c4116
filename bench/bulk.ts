// Bulk import: a burst of uploads into one repository, from the first upload until every file
// is in the published, signed indexes, against the reference tool importing the same files in
// the same run:
//   - 10,000 .debs by `wharf import` against `reprepro includedeb` (SignWith, Ed25519);
//   - 10,000 Arch packages by `wharf import` (each package server-signed) against `repo-add`
//     of the same files (unsigned, its TMPDIR on tmpfs);
//   - 1,000 tiny wheels by `wharf import` against `twine upload` of the same files to Wharf.
// Data sets are generated here (no network) and cached under bench/.work/bulk-*/.
//   npm run bench -- bulk [--quick] [--only deb,arch,wheel] [--jobs N] [--rounds N] [--modes batch,single]
// `wharf import` sends batches (the batch API) by default; `--modes batch,single` also times
// it with one request per file (`--single`, the path before the batch API), interleaved.
//     [--debs N] [--arch N] [--wheels N] [--no-write] [--wharf-node-args "..."]
// Writes the `## Bulk import` section of docs/benchmarks.md (not with --quick).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { tinyDeb } from './apt-add.ts';
import { tinyPackage } from './lib/arch-package.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { NODE, ROOT, startWharf, type RunningServer } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, ratio } from './lib/stats.ts';

const ADMIN_PASSWORD = 'bench-bulk-pw';
const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const WORK = join(import.meta.dirname, '.work');
const log = (m: string) => process.stderr.write(`[bulk] ${m}\n`);

type Kind = 'deb' | 'arch' | 'wheel';

type Mode = 'batch' | 'single';

interface Result {
  kind: Kind;
  mode: Mode;
  jobs: number;
  files: number;
  /** Wharf: until the import command returned (every upload acknowledged). */
  wharfAckS: number[];
  /** Wharf: until every file is in the published indexes. */
  wharfS: number[];
  /** CPU time of the server process over the burst, per file (ms): steadier than wall time on a shared machine. */
  wharfCpuMs: number[];
  /** CPU time of the `wharf import` client per file (ms): on the same cores as the server. */
  clientCpuMs: number[];
  refS: number[];
  refName: string;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}... failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs a command without blocking this process's event loop (the server may be in-process later). */
function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${err.slice(-2000)}`))));
  });
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}/-/api/v1${path}`, {
    method,
    headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// --- data sets ---------------------------------------------------------------------------

async function dataset(kind: Kind, count: number): Promise<string> {
  const dir = join(WORK, `bulk-${kind}-${count}`);
  if (existsSync(join(dir, 'complete'))) return join(dir, 'files');
  await rm(dir, { recursive: true, force: true });
  const files = join(dir, 'files');
  await mkdir(files, { recursive: true });
  const t = performance.now();
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(5, '0');
    if (kind === 'deb') await writeFile(join(files, `bulk-${n}_1.0-1_amd64.deb`), await tinyDeb(`bulk-${n}`, '1.0-1'));
    else if (kind === 'arch') await tinyPackage(files, `bulk${n}`, '1.0-1');
    else {
      // 100 projects, count/100 versions each, as a release history would be.
      const perProject = Math.max(1, Math.ceil(count / 100));
      const spec = { name: `bulk-${String(Math.floor(i / perProject)).padStart(3, '0')}`, version: `0.${i % perProject}` };
      await writeFile(join(files, wheelFilename(spec)), buildWheel({ ...spec, summary: 'tiny' }));
    }
  }
  await writeFile(join(dir, 'complete'), '');
  log(`generated ${count} ${kind} files in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return files;
}

// --- Wharf -------------------------------------------------------------------------------

/** Runs the import; the client's CPU time (ms), which competes with the server's for the machine's cores. */
async function wharfImport(url: string, repo: string, dir: string, jobs: number, fields: string[], mode: Mode): Promise<number> {
  const args = [join(ROOT, 'src/cli/main.ts'), '--url', url, 'import', repo, dir, '--jobs', String(jobs), ...(mode === 'single' ? ['--single'] : []), ...fields.flatMap((f) => ['--field', f])];
  const cpuFile = join(await mkdtemp(join(tmpdir(), 'wharf-bench-cpu-')), 'cpu');
  const out = await exec('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', NODE, ...args], { ...process.env, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD, WHARF_TOKEN: '' });
  if (!/ 0 refused/.test(out)) throw new Error(`wharf import refused files: ${out}`);
  const [user, sys] = (await readFile(cpuFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  await rm(join(cpuFile, '..'), { recursive: true, force: true });
  return (user + sys) * 1000;
}

/** Polls until `count()` reaches `want`; the time it first did. */
async function until(count: () => Promise<number>, want: number, timeoutMs = 1_800_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await count();
    if (n >= want) return performance.now();
    if (Date.now() > deadline) throw new Error(`only ${n} of ${want} published after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function get(url: string): Promise<Buffer | null> {
  const res = await fetch(url, { headers: { authorization: AUTH } });
  const body = Buffer.from(await res.arrayBuffer());
  return res.ok ? body : null;
}

/** Packages in the suite's signed indexes (InRelease names the Packages file that holds them). */
async function debsPublished(url: string, repo: string): Promise<number> {
  const inRelease = await get(`${url}/${repo}/dists/stable/InRelease`);
  if (!inRelease || !inRelease.includes('-----BEGIN PGP SIGNATURE-----')) return 0;
  const packages = await get(`${url}/${repo}/dists/stable/main/binary-amd64/Packages`);
  return packages ? (packages.toString('latin1').match(/^Package: /gm) ?? []).length : 0;
}

/** Entries in the signed .db (a signature that is there for this very db). */
async function archPublished(url: string, repo: string): Promise<number> {
  const db = await get(`${url}/${repo}/x86_64/${repo}.db`);
  const sig = await get(`${url}/${repo}/x86_64/${repo}.db.sig`);
  if (!db || !sig) return 0;
  const text = gunzipSync(db).toString('latin1');
  return (text.match(/%FILENAME%/g) ?? []).length;
}

/** Wheels listed on the projects' simple pages. */
async function wheelsPublished(url: string, repo: string, projects: string[]): Promise<number> {
  const pages = await Promise.all(projects.map((p) => get(`${url}/${repo}/simple/${p}/`)));
  return pages.reduce((n, b) => n + (b ? (b.toString('utf8').match(/\.whl#sha256=/g) ?? []).length : 0), 0);
}

let wharfRoot: string | undefined;

async function freshWharf(nodeArgs: string[]): Promise<{ server: RunningServer; data: string }> {
  const data = await mkdtemp(join(tmpdir(), 'wharf-bench-bulk-'));
  const server = await startWharf({ data, adminPassword: ADMIN_PASSWORD, nodeArgs, root: wharfRoot });
  return { server, data };
}

/** User + system CPU time of a process so far (ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function wharfRound(kind: Kind, dir: string, count: number, jobs: number, nodeArgs: string[], mode: Mode): Promise<{ ack: number; done: number; cpuPerFile: number; clientCpuPerFile: number }> {
  const { server, data } = await freshWharf(nodeArgs);
  try {
    const repo = `bulk-${kind}`;
    const format = kind === 'deb' ? 'apt' : kind === 'arch' ? 'arch' : 'pypi';
    await api(server.url, 'POST', '/repositories', { name: repo, format, kind: 'hosted', public: true });
    const fields = kind === 'deb' ? ['suite=stable', 'component=main'] : [];
    const projects = kind === 'wheel' ? [...new Set((await readdir(dir)).map((f) => f.split('-')[0].replace(/_/g, '-')))] : [];
    const published = kind === 'deb' ? () => debsPublished(server.url, repo) : kind === 'arch' ? () => archPublished(server.url, repo) : () => wheelsPublished(server.url, repo, projects);
    const cpu0 = await cpuMs(server.pid);
    const t0 = performance.now();
    const clientCpu = await wharfImport(server.url, repo, dir, jobs, fields, mode);
    const ack = performance.now();
    const done = await until(published, count);
    const cpuPerFile = (await cpuMs(server.pid) - cpu0) / count;
    return { ack: (ack - t0) / 1000, done: (done - t0) / 1000, cpuPerFile, clientCpuPerFile: clientCpu / count };
  } finally {
    await server.stop();
    await rm(data, { recursive: true, force: true });
  }
}

// --- references --------------------------------------------------------------------------

async function repreproRound(dir: string): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'wharf-bench-reprepro-'));
  try {
    const gnupg = join(work, 'gnupg');
    await mkdir(gnupg, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: gnupg };
    sh('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Bench <bench@example.com>', 'ed25519', 'sign', 'never'], env);
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(sh('gpg', ['--batch', '--with-colons', '--list-secret-keys'], env))![1];
    await mkdir(join(work, 'rr/conf'), { recursive: true });
    await writeFile(join(work, 'rr/conf/distributions'), `Origin: bench\nLabel: bench\nSuite: stable\nCodename: stable\nArchitectures: amd64\nComponents: main\nSignWith: ${fpr}\n`);
    await writeFile(join(work, 'rr/conf/options'), 'silent\n');
    const files = (await readdir(dir)).sort().map((f) => join(dir, f));
    const t0 = performance.now();
    // In batches of 2,000 files (the argument list's limit), as bench/apt-add.ts does.
    for (let i = 0; i < files.length; i += 2000) await exec('reprepro', ['-b', join(work, 'rr'), 'includedeb', 'stable', ...files.slice(i, i + 2000)], env);
    return (performance.now() - t0) / 1000;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function repoAddRound(dir: string): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'wharf-bench-repo-add-'));
  // repo-add's TMPDIR on tmpfs, as Arch's own /tmp is: where it unpacks and repacks the dbs.
  const tmp = await mkdtemp('/dev/shm/wharf-bench-repo-add-');
  try {
    const files = (await readdir(dir)).sort().map((f) => join(dir, f));
    const t0 = performance.now();
    // One repo-add call for all files (it adds them in one pass), in batches for the argument list.
    for (let i = 0; i < files.length; i += 2000) await exec('repo-add', ['-q', join(work, 'bulk.db.tar.gz'), ...files.slice(i, i + 2000)], { ...process.env, TMPDIR: tmp });
    return (performance.now() - t0) / 1000;
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  }
}

/** twine uploading every wheel to a fresh Wharf, until the last is published. */
async function twineRound(dir: string, count: number, nodeArgs: string[]): Promise<number> {
  const { server, data } = await freshWharf(nodeArgs);
  try {
    const repo = 'bulk-wheel';
    await api(server.url, 'POST', '/repositories', { name: repo, format: 'pypi', kind: 'hosted', public: true });
    const names = (await readdir(dir)).sort();
    const projects = [...new Set(names.map((f) => f.split('-')[0].replace(/_/g, '-')))];
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('TWINE_')) delete env[k];
    const t0 = performance.now();
    await exec('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', `${server.url}/${repo}/`, '-u', 'admin', '-p', ADMIN_PASSWORD, ...names.map((n) => join(dir, n))], env);
    const done = await until(() => wheelsPublished(server.url, repo, projects), count);
    return (done - t0) / 1000;
  } finally {
    await server.stop();
    await rm(data, { recursive: true, force: true });
  }
}

// --- report ------------------------------------------------------------------------------

function report(results: Result[], rounds: number, load: string): string {
  const rows = results.map((r) => {
    const w = median(r.wharfS);
    const a = median(r.wharfAckS);
    const ref = median(r.refS);
    const what = r.kind === 'deb' ? '.debs into one suite' : r.kind === 'arch' ? 'Arch packages (each server-signed)' : 'tiny wheels';
    const how = r.mode === 'batch' ? `batches, --jobs ${r.jobs}` : `--single, --jobs ${r.jobs}`;
    return [`${r.files.toLocaleString('en')} ${what} (${how})`, `${fmt(w, 1)} s (${fmt(r.files / w, 0)} files/s)`, `${fmt(a, 1)} s`, fmt(median(r.wharfCpuMs), 2), fmt(median(r.clientCpuMs), 2), r.refName, `${fmt(ref, 1)} s (${fmt(r.files / ref, 0)} files/s)`, ratio(ref, w)];
  });
  return [
    `A burst of uploads into one repository (\`bench/bulk.ts\`): Wharf by \`wharf import\` over HTTP into a fresh server (by default in batches: many files per request through the batch API; \`--single\`: one request per file), timed from the start until every file is in the published, signed indexes (polled); the reference on the same files in the same run, rounds interleaved, median of ${rounds}.`,
    '',
    table(['burst', 'Wharf: published', 'Wharf: all acknowledged', 'Wharf server CPU ms/file', 'client CPU ms/file', 'reference', 'reference time', 'ratio (ref / Wharf)'], rows),
    '',
    'References: `reprepro includedeb` with `SignWith` (Ed25519, gpg) in batches of 2,000 files; `repo-add` (unsigned, its TMPDIR on /dev/shm) in batches of 2,000 files; `twine upload` of all wheels to the same kind of fresh Wharf server (pypiserver and devpi are not installed on this machine; twine\'s one-file-at-a-time upload is the client-side limit there).',
    '',
    `${machineLine(machineInfo())} Load average (1 min) at the start and the end: ${load}: other work on the machine stretches wall times; the server's CPU time per file is the steadier figure.`,
    '',
    'How a batch is recorded: the server checks each file as a single upload, records them 200 files (or 32 MiB) per transaction with one blob-pin transaction and the chunk\'s blobs placed 16 at once, and publishes once at the end (and a moment after each chunk meanwhile, as a burst); each batch request (250 files) is answered once all of it is published. `wharf import` sends two batches at once.',
    '',
    'How a burst of single uploads is published: an upload that commits while others to the repository are still coming is answered once durable, and the burst is published (and signed) once per max(250 ms, one build), not once per file; the last upload waits for the publish (docs/reliability.md). Wall time is CPU time: the server\'s event loop is busy through most of a burst, and the import client (its CPU per file is the column beside the server\'s) runs on the same cores; under load each awaited step of an upload waits for the busy event loop, not for the disk. What is left per file is spread thin (CPU profile of the server, `--wharf-node-args="--cpu-prof --cpu-prof-dir=DIR"`): the HTTP request and answer, authentication, staging and hashing, parsing the package, SQLite (two transactions per upload: the blob pin and the rows, with their triggers), the fsyncs and rename of each blob (two blobs per Arch package and per wheel: its file list or core metadata), the builds of the indexes during the burst (for APT each rebuilds the suite and runs xz on the changed chunks), and for Arch the server\'s signature of each package.',
    '',
    'Run: `npm run bench -- bulk` (`--quick`: a tenth of the sizes, prints only).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', default: 'deb,arch,wheel' },
      jobs: { type: 'string' },
      modes: { type: 'string', default: 'batch' },
      rounds: { type: 'string', default: '1' },
      debs: { type: 'string' },
      arch: { type: 'string' },
      wheels: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'wharf-node-args': { type: 'string', default: '' },
      'wharf-root': { type: 'string' },
      'no-reference': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const sizes: Record<Kind, number> = {
    deb: Number(values.debs ?? (quick ? 1000 : 10_000)),
    arch: Number(values.arch ?? (quick ? 1000 : 10_000)),
    wheel: Number(values.wheels ?? (quick ? 200 : 1000)),
  };
  const modes = values.modes.split(',') as Mode[];
  const jobsOf = (m: Mode) => Number(values.jobs ?? (m === 'batch' ? 2 : 8));
  const rounds = Number(values.rounds);
  const nodeArgs = values['wharf-node-args'].split(' ').filter(Boolean);
  const kinds = values.only.split(',') as Kind[];
  wharfRoot = values['wharf-root'];
  const results: Result[] = [];
  const loadAtStart = loadavg()[0].toFixed(1);
  for (const kind of kinds) {
    const count = sizes[kind];
    const dir = await dataset(kind, count);
    const byMode = modes.map((mode): Result => ({ kind, mode, jobs: jobsOf(mode), files: count, wharfAckS: [], wharfS: [], wharfCpuMs: [], clientCpuMs: [], refS: [], refName: kind === 'deb' ? 'reprepro includedeb' : kind === 'arch' ? 'repo-add (TMPDIR on tmpfs)' : 'twine upload to Wharf' }));
    for (let i = 0; i < rounds; i++) {
      const ref = values['no-reference'] ? NaN : kind === 'deb' ? await repreproRound(dir) : kind === 'arch' ? await repoAddRound(dir) : await twineRound(dir, count, nodeArgs);
      for (const r of byMode) {
        const w = await wharfRound(kind, dir, count, r.jobs, nodeArgs, r.mode);
        r.wharfAckS.push(w.ack);
        r.wharfS.push(w.done);
        r.wharfCpuMs.push(w.cpuPerFile);
        r.clientCpuMs.push(w.clientCpuPerFile);
        r.refS.push(ref);
        log(`${kind} round ${i + 1} (${r.mode}): wharf acknowledged ${w.ack.toFixed(1)} s, published ${w.done.toFixed(1)} s, server CPU ${w.cpuPerFile.toFixed(2)} ms/file, client CPU ${w.clientCpuPerFile.toFixed(2)} ms/file; ${r.refName} ${ref.toFixed(1)} s`);
      }
    }
    results.push(...byMode);
  }
  const body = report(results, rounds, `${loadAtStart} and ${loadavg()[0].toFixed(1)}`);
  console.log(body);
  if (!quick && !values['no-write'] && !values['no-reference'] && !wharfRoot) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Bulk import', body);
}

if (import.meta.main) await main(process.argv.slice(2));
