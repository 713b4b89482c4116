// A server holding a million files (issue 12, item 3): start-up time, resident memory at rest,
// page latency at 1k / 100k / 1M files, and `wharf status` / `wharf gc` wall time, each against
// a fresh `wharf serve` process on a data set generated in-process (bench/million/dataset.ts,
// cached under bench/.work/million-<N>/).
//   node bench/run.ts million [--files N] [--quick] [--rounds N] [--requests N] [--no-write]
// --files N measures 1,000, N/10 and N files (default 1,000,000); --quick is --files 100000.
import { spawn, execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { APT_SUITES, archName, debName, ensureMillion, filesDir, filesPrefix, pypiName, REPOS, type Built } from './million/dataset.ts';
import { buildArchSample, buildDebSample } from '../test/helpers/fuzz-corpus.ts';
import { buildWheel } from '../test/helpers/python-dists.ts';
import { sequentialLatency } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { freePort, memoryOf, NODE, ROOT, stop } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, mib, percentile } from './lib/stats.ts';

const ADMIN_PASSWORD = 'million-bench-admin-pw';
const run = promisify(execFile);
const log = (m: string) => process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  what: string;
  path: string;
  accept?: string;
  /** Rendered for a signed-in viewer (never from the response cache). */
  signedIn?: boolean;
}

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function targets(b: Built): Target[] {
  const mid = Math.floor(b.plan.packagesPerFormat / 2);
  const f = Math.floor(b.plan.filesProjects / 2);
  return [
    { what: 'PyPI simple page of a project', path: `/${REPOS.pypi}/simple/${pypiName(mid)}/` },
    { what: 'PyPI JSON API of a project', path: `/${REPOS.pypi}/pypi/${pypiName(mid)}/json` },
    { what: 'APT InRelease', path: `/${REPOS.apt}/dists/${APT_SUITES[0]}/InRelease` },
    { what: 'APT Packages.gz (amd64)', path: `/${REPOS.apt}/dists/${APT_SUITES[0]}/main/binary-amd64/Packages.gz` },
    { what: 'Arch db (x86_64)', path: `/${REPOS.arch}/x86_64/${REPOS.arch}.db` },
    { what: 'files: a release directory', path: `/${REPOS.files}/${filesDir(f, 2)}` },
    { what: 'files: a directory of ~80 projects', path: `/${REPOS.files}/releases/${filesPrefix(f)}/` },
    { what: 'web: repository page (PyPI)', path: `/${REPOS.pypi}/`, accept: HTML, signedIn: true },
    { what: 'web: repository page (APT), by last upload, page 3', path: `/${REPOS.apt}/?sort=updated&page=3`, accept: HTML, signedIn: true },
    { what: 'web: package page (PyPI)', path: `/-/package/${REPOS.pypi}/${pypiName(mid)}`, accept: HTML, signedIn: true },
    { what: 'web: package page (APT)', path: `/-/package/${REPOS.apt}/${debName(mid)}`, accept: HTML, signedIn: true },
    { what: 'web: package page (Arch)', path: `/-/package/${REPOS.arch}/${archName(mid)}`, accept: HTML, signedIn: true },
    { what: 'web: search, one word', path: '/-/search?q=crypto', accept: HTML, signedIn: true },
    { what: 'web: search, JSON (as you type)', path: '/-/search?q=vec', accept: 'application/json', signedIn: true },
  ];
}

/** Documents every repository must serve before the server counts as ready. */
function indexPaths(): string[] {
  return [
    `/${REPOS.pypi}/simple/`,
    ...APT_SUITES.map((s) => `/${REPOS.apt}/dists/${s}/InRelease`),
    `/${REPOS.arch}/x86_64/${REPOS.arch}.db`, `/${REPOS.arch}/aarch64/${REPOS.arch}.files`,
    `/${REPOS.files}/`,
  ];
}

interface Started {
  url: string;
  pid: number;
  /** Spawn → first answer of /-/health; → every repository's indexes answered. */
  healthMs: number;
  indexesMs: number;
  stop(): Promise<void>;
}

async function startTimed(data: string): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(NODE, [join(ROOT, 'src/cli/main.ts'), 'serve', '--data', data, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'], {
    cwd: ROOT, env: { ...process.env, WHARF_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wharf serve exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/-/health`).then(async (r) => (await r.arrayBuffer(), r.status === 200), () => false);
    if (ok) break;
    if (performance.now() - t0 > 600_000) throw new Error('wharf serve did not answer within 10 minutes');
    await sleep(10);
  }
  const healthMs = performance.now() - t0;
  await Promise.all(indexPaths().map(async (p) => {
    const res = await fetch(url + p);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status}`);
  }));
  const indexesMs = performance.now() - t0;
  return { url, pid: child.pid!, healthMs, indexesMs, stop: () => stop(child) };
}

async function tokenFor(url: string): Promise<string> {
  const res = await fetch(`${url}/-/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench-${Date.now()}`, permission: 'admin' }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 && res.status !== 200) throw new Error(`token: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.token!;
}

/** Wall time of a CLI command against the server (a new Node process each time, as a user runs it). */
async function cliMs(url: string, token: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  await run(NODE, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, WHARF_URL: url, WHARF_TOKEN: token }, timeout: 600_000 });
  return performance.now() - t0;
}

/** A POST without fetch's 300 s wait for the answer's headers: an upload at a million files may publish for longer. */
function post(url: string, headers: Record<string, string>, body: Uint8Array): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** VmRSS once it stops falling: sampled every 500 ms until two samples agree within 1 MiB (at most `maxMs`). */
async function restingRss(pid: number, maxMs = 10_000): Promise<number> {
  let prev = (await memoryOf(pid)).rss;
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    await sleep(500);
    const now = (await memoryOf(pid)).rss;
    if (Math.abs(now - prev) < 1024 * 1024) return now;
    prev = now;
  }
  return prev;
}

interface SizeResult {
  built: Built;
  healthMs: number[];
  indexesMs: number[];
  rssStart: number;
  rssAfter: number;
  /** After one upload to each repository (which loads the formats' incremental index state). */
  rssUploads: number;
  uploads: { what: string; ms: number }[];
  hwm: number;
  pages: { what: string; bytes: number; p50: number; p95: number }[];
  statusMs: number[];
  statusCliMs: number[];
  gcMs: number[];
  gcCliMs: number[];
  gcDryMs: number[];
  gcDryCliMs: number[];
}

async function measure(built: Built, rounds: number, requests: number): Promise<SizeResult> {
  const r: SizeResult = { built, healthMs: [], indexesMs: [], rssStart: 0, rssAfter: 0, rssUploads: 0, uploads: [], hwm: 0, pages: [], statusMs: [], statusCliMs: [], gcMs: [], gcCliMs: [], gcDryMs: [], gcDryCliMs: [] };
  // Start-up, several times: each a fresh process on the same data (the OS page cache is warm after the first).
  for (let i = 0; i < rounds - 1; i++) {
    const s = await startTimed(built.data);
    r.healthMs.push(s.healthMs);
    r.indexesMs.push(s.indexesMs);
    await s.stop();
  }
  const s = await startTimed(built.data);
  r.healthMs.push(s.healthMs);
  r.indexesMs.push(s.indexesMs);
  try {
    r.rssStart = await restingRss(s.pid);
    const token = await tokenFor(s.url);
    for (const t of targets(built)) {
      const headers: Record<string, string> = { ...(t.accept ? { accept: t.accept } : {}), ...(t.signedIn ? { authorization: `Bearer ${token}` } : {}) };
      await sequentialLatency(s.url + t.path, 10, headers);
      const run = await sequentialLatency(s.url + t.path, requests, headers);
      r.pages.push({ what: t.what, bytes: run.bytes, p50: median(run.latenciesMs), p95: percentile(run.latenciesMs, 95) });
    }
    r.rssAfter = await restingRss(s.pid);
    const auth = { authorization: `Bearer ${token}` };
    // One upload to each repository, answered once published: what an add costs at this size,
    // and the memory the formats' incremental state (APT's .deb list, Arch's db buckets) holds after.
    // The light ones first: measured after APT's first publish, a file upload at 1M files took
    // 3 s instead of milliseconds (perhaps the write-ahead log's checkpoint of the tens of MiB
    // that publish wrote, not yet profiled).
    const stamp = Date.now();
    const uploads: { what: string; repo: string; filename: string; bytes: Uint8Array; fields?: Record<string, string> }[] = [
      { what: 'file', repo: REPOS.files, filename: `added-${stamp}.tar.gz`, bytes: Buffer.from(`added ${stamp}\n`), fields: { path: `releases/added/${stamp}/added-${stamp}.tar.gz` } },
      { what: 'PyPI wheel', repo: REPOS.pypi, filename: `bench_added_${stamp}-1.0-py3-none-any.whl`, bytes: buildWheel({ name: `bench-added-${stamp}`, version: '1.0' }) },
      { what: 'Arch package', repo: REPOS.arch, ...(await buildArchSample(`bench-added-${stamp}`, '1.0-1', 'zstd')) },
      { what: 'APT .deb', repo: REPOS.apt, ...(await buildDebSample(`bench-added-${stamp}`, '1.0-1', 'gzip')), fields: { suite: APT_SUITES[0] } },
    ];
    for (const u of uploads) {
      const query = new URLSearchParams({ filename: u.filename, ...(u.fields ?? {}) });
      const t0 = performance.now();
      const res = await post(`${s.url}/-/api/v1/repositories/${u.repo}/upload?${query}`, { ...auth, 'content-type': 'application/octet-stream' }, u.bytes);
      if (res.status >= 300) throw new Error(`upload ${u.what}: HTTP ${res.status} ${res.text}`);
      r.uploads.push({ what: u.what, ms: performance.now() - t0 });
    }
    r.rssUploads = await restingRss(s.pid);
    r.hwm = (await memoryOf(s.pid)).hwm;
    for (let i = 0; i < rounds; i++) {
      let t0 = performance.now();
      const st = await fetch(`${s.url}/-/api/v1/status`, { headers: auth });
      await st.arrayBuffer();
      if (st.status !== 200) throw new Error(`status: HTTP ${st.status}`);
      r.statusMs.push(performance.now() - t0);
      r.statusCliMs.push(await cliMs(s.url, token, ['status']));
      t0 = performance.now();
      const dry = await fetch(`${s.url}/-/api/v1/gc?dryRun=true`, { method: 'POST', headers: auth });
      await dry.arrayBuffer();
      if (dry.status !== 200) throw new Error(`gc dry run: HTTP ${dry.status}`);
      r.gcDryMs.push(performance.now() - t0);
      r.gcDryCliMs.push(await cliMs(s.url, token, ['gc', '--dry-run']));
      t0 = performance.now();
      const gc = await fetch(`${s.url}/-/api/v1/gc`, { method: 'POST', headers: auth });
      const body = (await gc.json()) as { blobs: number };
      if (gc.status !== 200) throw new Error(`gc: HTTP ${gc.status}`);
      if (body.blobs !== 0) throw new Error(`gc freed ${body.blobs} blobs of a data set that references all of them`);
      r.gcMs.push(performance.now() - t0);
      r.gcCliMs.push(await cliMs(s.url, token, ['gc']));
    }
  } finally {
    await s.stop();
  }
  return r;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      files: { type: 'string' }, quick: { type: 'boolean', default: false }, rounds: { type: 'string' },
      requests: { type: 'string' }, 'no-write': { type: 'boolean', default: false },
    },
  });
  const largest = Number(values.files ?? (values.quick ? 100_000 : 1_000_000));
  const sizes = [...new Set([1000, Math.round(largest / 10), largest])].filter((n) => n >= 1000).sort((a, b) => a - b);
  const rounds = Number(values.rounds ?? (values.quick ? 2 : 3));
  const requests = Number(values.requests ?? (values.quick ? 50 : 200));
  const machine = machineInfo();
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const t0 = performance.now();
    const built = await ensureMillion(join(ROOT, 'bench/.work'), size, ADMIN_PASSWORD, log);
    log(`million: data set of ${fmt(built.counts.files)} files ready (${((performance.now() - t0) / 1000).toFixed(0)} s); measuring`);
    results.push(await measure(built, rounds, requests));
    const last = results[results.length - 1];
    log(`million: ${fmt(size)} files: start ${fmt(median(last.healthMs))} ms, ready ${fmt(median(last.indexesMs))} ms, RSS ${mib(last.rssStart)} → ${mib(last.rssAfter)}, gc ${fmt(median(last.gcMs))} ms`);
  }
  const head = ['', ...results.map((r) => `${fmt(r.built.counts.files)} files`)];
  const startRows = [
    ['packages', ...results.map((r) => fmt(r.built.counts.packages))],
    ['data set generated in (rows + publish)', ...results.map((r) => `${fmt(r.built.seconds.rows)} + ${fmt(r.built.seconds.publish)} s`)],
    ['start: spawn → first answer (median)', ...results.map((r) => `${fmt(median(r.healthMs))} ms`)],
    ['start: spawn → every repository\'s indexes served', ...results.map((r) => `${fmt(median(r.indexesMs))} ms`)],
    ['RSS at rest after start', ...results.map((r) => mib(r.rssStart))],
    ['RSS at rest after the page round', ...results.map((r) => mib(r.rssAfter))],
    ['RSS at rest after one upload to each repository', ...results.map((r) => mib(r.rssUploads))],
    ...results[0].uploads.map((u, i) => [`upload one ${u.what}, answered once published`, ...results.map((r) => `${fmt(r.uploads[i].ms)} ms`)]),
    ['peak RSS (VmHWM)', ...results.map((r) => mib(r.hwm))],
    ['`GET /-/api/v1/status`', ...results.map((r) => `${fmt(median(r.statusMs), 1)} ms`)],
    ['`wharf status` (a new CLI process)', ...results.map((r) => `${fmt(median(r.statusCliMs))} ms`)],
    ['`POST /-/api/v1/gc?dryRun=true`', ...results.map((r) => `${fmt(median(r.gcDryMs))} ms`)],
    ['`wharf gc --dry-run` (a new CLI process)', ...results.map((r) => `${fmt(median(r.gcDryCliMs))} ms`)],
    ['`POST /-/api/v1/gc`, nothing to collect', ...results.map((r) => `${fmt(median(r.gcMs))} ms`)],
    ['`wharf gc` (a new CLI process)', ...results.map((r) => `${fmt(median(r.gcCliMs))} ms`)],
  ];
  const big = results[results.length - 1];
  const small = results[0];
  const flat = big.pages.filter((p, i) => !/Packages|Arch db/.test(p.what) && p.p50 > 3 * Math.max(1, small.pages[i].p50)).map((p) => p.what);
  const goals = [
    `- start-up under 5 s: ${fmt(median(big.indexesMs))} ms to every index at ${fmt(big.built.counts.files)} files, ${fmt(median(small.indexesMs))} ms at ${fmt(small.built.counts.files)} (${median(big.indexesMs) < 5000 ? 'met' : 'missed'}).`,
    `- resident memory under 400 MiB at rest: ${mib(big.rssAfter)} after the page round (${big.rssAfter < 400 * 1024 * 1024 ? 'met' : 'missed'}); ${mib(big.rssUploads)} once each repository took one upload (${big.rssUploads < 400 * 1024 * 1024 ? 'met' : 'missed'}: APT's and Arch's publishing state, docs/memory.md).`,
    `- page latency flat: ${flat.length ? `slower by more than 3× from ${fmt(small.built.counts.files)} to ${fmt(big.built.counts.files)} files: ${flat.join(', ')}` : `no page but those whose body grows with the repository (Packages.gz, the Arch db) is 3× slower at ${fmt(big.built.counts.files)} files than at ${fmt(small.built.counts.files)}`}.`,
    `- gc and status in seconds: gc ${fmt(median(big.gcMs) / 1000, 1)} s, dry run ${fmt(median(big.gcDryMs) / 1000, 1)} s, status ${fmt(median(big.statusMs), 0)} ms.`,
  ];
  const pageRows = results[0].pages.map((p, i) => [p.what, ...results.map((r) => `${fmt(r.pages[i].p50, 2)} / ${fmt(r.pages[i].p95, 2)} (${fmt(r.pages[i].bytes / 1024, 1)} KiB)`)]);
  const body = [
    machineLine(machine) + ` Load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    `\`npm run bench -- million${values.quick ? ' --quick' : values.files ? ` --files ${largest}` : ''}\`. One hosted repository per format; per ${fmt(largest)} files: ` +
      `PyPI, APT and Arch each hold ${fmt(results[results.length - 1].built.plan.packagesPerFormat)} packages of 8 files (sdists, wheels and their .metadata; .debs of 4 versions × 2 architectures in 2 suites; ` +
      'packages with .sig and .files in two architectures), the files repository the rest in `releases/<xx>/<project>/<version>/`. Rows are written through the Store, ' +
      'a small distinct blob per file, every index published by the core. Each measure is a fresh `wharf serve` process on that data ' +
      `(${rounds} starts, median; the OS page cache is warm). RSS "at rest": VmRSS once two samples 500 ms apart agree within 1 MiB.`,
    '',
    table(head, startRows),
    '',
    'Against the goals of issue 12 (this run):',
    '',
    ...goals,
    '',
    `Page latency, median / p95 in ms of ${requests} sequential keep-alive requests (anonymous, so cached answers, except the web pages, rendered for a signed-in viewer), and the body size:`,
    '',
    table(['page', ...head.slice(1)], pageRows),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## A million files', body);
}
