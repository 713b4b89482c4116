// Benchmark: adding one package to an Arch repository of 10,000 packages, until the new
// signed db is served, against repo-add (its TMPDIR on tmpfs, as Arch's own /tmp is) doing
// the same to a 10,000-entry db, interleaved; and the rate of a bulk import of 10,000
// packages over HTTP. Run by hand:
//   node_modules/.bin/node bench/arch-add.ts [--packages 10000] [--runs 10] [--jobs 8]
//     [--quick] [--fresh] [--no-write] [--cpu-prof DIR]
// The imported repository is cached under bench/.work/arch-<N>/ (--fresh imports again);
// each run works on a copy of it. Writes the `## Arch` section of docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { cpus, nproc, tmpdir } from './arch-machine.ts';
import path from 'node:path';
import { tinyPackage } from './lib/arch-package.ts';
import { buildServer } from '../src/server/app.ts';
import { DEFAULTS } from '../src/server/config.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
const QUICK = flag('quick');
const PACKAGES = arg('packages', QUICK ? 1000 : 10_000);
const RUNS = arg('runs', QUICK ? 5 : 10);
const FRESH = flag('fresh');
const WRITE = !flag('no-write') && !QUICK;
const PROF_DIR = (() => {
  const i = process.argv.indexOf('--cpu-prof');
  return i > 0 ? process.argv[i + 1] : undefined;
})();
const TMPFS = '/dev/shm';
const JOBS = arg('jobs', 8);
const PASSWORD = 'bench-password';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

interface Dataset {
  dir: string;
  /** Seconds the import over HTTP took, when it ran in this process. */
  importSeconds?: number;
}

async function startWharf(data: string) {
  const { app, wharf } = await buildServer({ ...DEFAULTS, data, port: 0, adminPassword: PASSWORD, logLevel: 'error' }, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, wharf, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}

async function upload(url: string, file: string) {
  const res = await fetch(`${url}/bench/upload/${path.basename(file)}`, { method: 'PUT', headers: { authorization: auth }, body: await readFile(file) });
  if (res.status !== 201) throw new Error(`upload ${file}: ${res.status} ${await res.text()}`);
}

/** The repository of PACKAGES packages, imported over HTTP once and cached. */
async function dataset(): Promise<Dataset> {
  const dir = path.join(import.meta.dirname, '.work', `arch-${PACKAGES}`);
  if (!FRESH && existsSync(path.join(dir, 'done'))) return { dir };
  await rm(dir, { recursive: true, force: true });
  const pkgDir = path.join(dir, 'pkgs');
  await mkdir(pkgDir, { recursive: true });
  let t = performance.now();
  const files: string[] = [];
  for (let i = 0; i < PACKAGES; i++) files.push(await tinyPackage(pkgDir, `pkg${String(i).padStart(5, '0')}`, '1.0-1'));
  console.log(`generated ${PACKAGES} packages in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const { app, wharf, url } = await startWharf(path.join(dir, 'data'));
  let importSeconds: number;
  try {
    await wharf.createRepo({ name: 'bench', format: 'arch' });
    t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: JOBS }, async () => {
      while (next < files.length) await upload(url, files[next++]);
    }));
    importSeconds = (performance.now() - t) / 1000;
    console.log(`imported ${PACKAGES} packages in ${importSeconds.toFixed(1)} s (${(PACKAGES / importSeconds).toFixed(0)} packages/s, ${JOBS} at a time)`);
  } finally {
    await app.close();
  }
  await rm(pkgDir, { recursive: true, force: true });
  await writeFile(path.join(dir, 'done'), JSON.stringify({ importSeconds, jobs: JOBS, date: new Date().toISOString() }));
  return { dir, importSeconds };
}

async function main() {
  const ds = await dataset();
  const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-arch-'));
  // repo-add's TMPDIR on tmpfs: where it unpacks and repacks the dbs.
  const raTmp = await mkdtemp(path.join(TMPFS, 'wharf-bench-repo-add-'));
  const pkgDir = path.join(work, 'pkgs');
  await mkdir(pkgDir);
  // A copy, so the packages added by runs never reach the cached repository.
  await cp(path.join(ds.dir, 'data'), path.join(work, 'data'), { recursive: true });
  const { app, url } = await startWharf(path.join(work, 'data'));
  let profiler: Session | undefined;
  try {
    // repo-add's starting point: the same entries, as bench.db.tar.gz and bench.files.tar.gz.
    const ra = path.join(work, 'repo-add');
    await mkdir(ra);
    const dbBytes = Buffer.from(await (await fetch(`${url}/bench/x86_64/bench.db`)).arrayBuffer());
    const filesBytes = Buffer.from(await (await fetch(`${url}/bench/x86_64/bench.files`)).arrayBuffer());
    await writeFile(path.join(ra, 'base.db.tar.gz'), dbBytes);
    await writeFile(path.join(ra, 'base.files.tar.gz'), filesBytes);

    let t0: number;
    if (PROF_DIR) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    // One add first, untimed: a fresh process loads the repository's db state on first use
    // (for the .files db, published after the upload answered, by reading every file list).
    t0 = performance.now();
    await upload(url, await tinyPackage(pkgDir, 'zz-warmup', '1.0-1'));
    const warmUpload = performance.now() - t0;
    await (await fetch(`${url}/bench/x86_64/bench.files`)).arrayBuffer();
    const warm = performance.now() - t0;
    console.log(`first add after start: answered in ${warmUpload.toFixed(0)} ms, .files db current after ${warm.toFixed(0)} ms`);
    const wharfTimes: number[] = [];
    /** Until the upload was answered (the new .db is published by then). */
    const uploadTimes: number[] = [];
    const repoAddTimes: number[] = [];
    let profiled = 0;
    for (let run = 0; run < RUNS; run++) {
      const file = await tinyPackage(pkgDir, `zz-new${run}`, '1.0-1');
      // Wharf: upload, then fetch the db until its ETag changes and the signature is there.
      const before = (await fetch(`${url}/bench/x86_64/bench.db`, { method: 'HEAD' })).headers.get('etag');
      if (profiler) await profiler.post('Profiler.start');
      let t = performance.now();
      await upload(url, file);
      uploadTimes.push(performance.now() - t);
      for (;;) {
        const res = await fetch(`${url}/bench/x86_64/bench.db`, { headers: { 'if-none-match': before ?? '' } });
        await res.arrayBuffer();
        if (res.status === 200 && (await fetch(`${url}/bench/x86_64/bench.db.sig`)).ok) break;
      }
      wharfTimes.push(performance.now() - t);
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        await mkdir(PROF_DIR!, { recursive: true });
        await writeFile(path.join(PROF_DIR!, `arch-add-${run}.cpuprofile`), JSON.stringify(profile));
        profiled++;
      }

      // repo-add: the same package into a fresh copy of the db, its TMPDIR on tmpfs.
      await copyFile(path.join(ra, 'base.db.tar.gz'), path.join(ra, 'bench.db.tar.gz'));
      await copyFile(path.join(ra, 'base.files.tar.gz'), path.join(ra, 'bench.files.tar.gz'));
      t = performance.now();
      execFileSync('repo-add', ['-q', path.join(ra, 'bench.db.tar.gz'), file], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TMPDIR: raTmp } });
      repoAddTimes.push(performance.now() - t);
      for (const left of await readdir(raTmp)) await rm(path.join(raTmp, left), { recursive: true, force: true });
      console.log(`run ${run + 1}: wharf ${wharfTimes.at(-1)!.toFixed(1)} ms (upload answered after ${uploadTimes.at(-1)!.toFixed(1)} ms), repo-add ${repoAddTimes.at(-1)!.toFixed(0)} ms`);
    }
    if (profiled) console.log(`${profiled} CPU profiles (this process: server and client) in ${PROF_DIR}`);
    const w = stats(wharfTimes);
    const r = stats(repoAddTimes);
    const u = stats(uploadTimes);
    const n = PACKAGES.toLocaleString('en');
    const imported = ds.importSeconds === undefined
      ? JSON.parse(await readFile(path.join(ds.dir, 'done'), 'utf8')) as { importSeconds: number; jobs: number; date: string }
      : { importSeconds: ds.importSeconds, jobs: JOBS, date: new Date().toISOString() };
    const section = [
      '## Arch',
      '',
      `Adding one package to a repository of ${n} packages (\`bench/arch-add.ts\`, ${new Date().toISOString().slice(0, 10)}, ${nproc()} CPUs, ${cpus()}, Node ${process.version}), ${RUNS} runs, Wharf and repo-add interleaved.`,
      '',
      '| measure | median | min | max |',
      '|---|---|---|---|',
      `| Wharf: \`curl -T\`-style PUT until the new signed \`.db\` is served | ${w.median.toFixed(1)} ms | ${w.min.toFixed(1)} ms | ${w.max.toFixed(1)} ms |`,
      `| \`repo-add\` adding the same package to the ${n}-entry db + files db, unsigned, TMPDIR on tmpfs | ${r.median.toFixed(0)} ms | ${r.min.toFixed(0)} ms | ${r.max.toFixed(0)} ms |`,
      `| of which the upload, until answered | ${u.median.toFixed(1)} ms | ${u.min.toFixed(1)} ms | ${u.max.toFixed(1)} ms |`,
      `| ratio (medians) | ${(r.median / w.median).toFixed(0)}× | | |`,
      '',
      `Bulk import of ${n} packages over HTTP (${imported.jobs} at a time, each server-signed), when the data set was made (${imported.date.slice(0, 10)}): ${imported.importSeconds.toFixed(1)} s (${(PACKAGES / imported.importSeconds).toFixed(0)} packages/s).`,
      `db size at ${n} packages (\`.db\` / \`.files\`): ${(dbBytes.length / 1024).toFixed(0)} KiB / ${(filesBytes.length / 1024).toFixed(0)} KiB.`,
      '',
      `The first add after a start loads the repository's db state: answered in ${warmUpload.toFixed(0)} ms, the \`.files\` db current after ${warm.toFixed(0)} ms (untimed above).`,
      'Each repo-add starts from a fresh copy of the same db (the one Wharf served), on disk, with `TMPDIR` on /dev/shm.',
      '',
    ].join('\n');
    if (WRITE) await writeSection(section);
    console.log(section);
  } finally {
    profiler?.disconnect();
    await app.close();
    await rm(work, { recursive: true, force: true });
    await rm(raTmp, { recursive: true, force: true });
  }
}

async function writeSection(section: string) {
  const file = path.join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  let text = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const start = text.search(/^## Arch\s*$/m);
  if (start < 0) text = `${text.trimEnd()}\n\n${section}`;
  else {
    const rest = text.slice(start + 1);
    const end = rest.search(/^## /m);
    text = text.slice(0, start) + section + (end < 0 ? '' : `\n${rest.slice(end)}`);
  }
  await writeFile(file, `${text.trimEnd()}\n`);
}

await main();
