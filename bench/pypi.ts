// The PyPI benchmark: simple-page requests/s against nginx, page latency at growing
// repository sizes, twine ingest of 1,000 tiny wheels, server memory during a 2 GiB upload.
// Results go to the `## PyPI` section of docs/benchmarks.md. Run by hand (see bench/README.md):
//   node bench/run.ts pypi [--quick] [--only simple,latency,ingest,upload] [--no-write]
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, machineLine } from './lib/machine.ts';
import { ROOT, startWharf } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, mib } from './lib/stats.ts';
import { ADMIN_PASSWORD } from './pypi/admin.ts';
import { bigUploadMemory, type UploadMemory } from './pypi/big-upload.ts';
import { ensureDataset, FULL_PLANS, QUICK_PLANS, TARGET_PROJECT, totalFiles, totalProjects } from './pypi/dataset.ts';
import { pageLatency, type LatencyRow } from './pypi/page-latency.ts';
import { simplePageThroughput, type SimplePageResult } from './pypi/simple-page.ts';
import { twineIngest, type IngestRun } from './pypi/twine-ingest.ts';

const PARTS = ['simple', 'latency', 'ingest', 'upload'] as const;
type Part = (typeof PARTS)[number];

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      'upload-mib': { type: 'string' },
      'wharf-node-args': { type: 'string' },
    },
  });
  const quick = values.quick;
  const parts = new Set<Part>(values.only ? (values.only.split(',') as Part[]) : PARTS);
  for (const p of parts) if (!PARTS.includes(p)) throw new Error(`unknown part ${p}; parts: ${PARTS.join(', ')}`);
  const rounds = Number(values.rounds ?? (quick ? 2 : 3));
  const durationSec = Number(values.duration ?? (quick ? 3 : 10));
  const wrkOpts = { threads: Number(values.threads), connections: Number(values.connections), durationSec };
  const uploadBytes = Number(values['upload-mib'] ?? (quick ? 256 : 2048)) * 1024 * 1024;
  const ingestCount = quick ? 200 : 1000;
  const plans = quick ? QUICK_PLANS : FULL_PLANS;
  const workDir = join(ROOT, 'bench/.work');
  await mkdir(workDir, { recursive: true });
  const log = (m: string) => process.stderr.write(`[pypi ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  const machine = machineInfo();
  log(machineLine(machine));
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' ');

  let simple: SimplePageResult | undefined;
  let latency: LatencyRow[] | undefined;
  let ingest: IngestRun[] | undefined;
  let upload: UploadMemory[] | undefined;
  const largest = plans[plans.length - 1];

  if (parts.has('simple') || parts.has('latency') || parts.has('ingest')) {
    const dataset = await ensureDataset(workDir, plans, ADMIN_PASSWORD, log);
    const wharf = await startWharf({ data: dataset.data, adminPassword: ADMIN_PASSWORD, nodeArgs: values['wharf-node-args']?.split(' ').filter(Boolean) });
    try {
      if (parts.has('simple')) {
        simple = await simplePageThroughput({ wharf, pagePath: `/${largest.name}/simple/${TARGET_PROJECT}/`, workDir, rounds, wrk: wrkOpts, gzip: true, log });
      }
      if (parts.has('latency')) {
        latency = await pageLatency({
          wharf,
          repos: plans.map((p) => ({ name: p.name, files: totalFiles(p), projects: totalProjects(p), pagePath: `/${p.name}/simple/${TARGET_PROJECT}/` })),
          requests: quick ? 600 : 2000,
          rounds,
          log,
        });
      }
      if (parts.has('ingest')) ingest = await twineIngest({ wharf, workDir, count: ingestCount, rounds: quick ? 1 : 2, log });
    } finally {
      await wharf.stop();
    }
  }
  if (parts.has('upload')) upload = await bigUploadMemory({ workDir, dataBytes: uploadBytes, log });

  const load = `load average ${loadStart} at the start, ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`;
  const results = { machine, load, quick, wrk: wrkOpts, rounds, simple, latency: latency?.map(({ latenciesMs: _l, ...r }) => r), ingest: ingest?.map(({ perFileMs: _p, ...r }) => r), upload };
  const resultsFile = join(workDir, `pypi-results-${machine.date.replace(/[:]/g, '')}.json`);
  await writeFile(resultsFile, JSON.stringify(results, null, 2));
  const md = render({ machine: `${machineLine(machine)} Other work on the machine: ${load} (1/5/15 min).`, quick, wrk: wrkOpts, rounds, simple, latency, ingest, upload, largestFiles: totalFiles(largest), largestProjects: totalProjects(largest), targetFiles: largest.targetFiles });
  process.stdout.write(`${md}\n`);
  if (!values['no-write']) {
    if (values.only) log('--only given: the section is written with the parts that ran');
    writeSection(join(ROOT, 'docs/benchmarks.md'), '## PyPI', md);
    log('written to docs/benchmarks.md (## PyPI)');
  }
}

function render(r: {
  machine: string; quick: boolean; wrk: { threads: number; connections: number; durationSec: number }; rounds: number;
  simple?: SimplePageResult; latency?: LatencyRow[]; ingest?: IngestRun[]; upload?: UploadMemory[];
  largestFiles: number; largestProjects: number; targetFiles: number;
}): string {
  const out: string[] = [];
  out.push(`${r.machine}${r.quick ? ' **Quick run (`--quick`): reduced sizes, not the reference figures.**' : ''}`);
  out.push('');
  out.push('Run with `npm run bench -- pypi` (see `bench/README.md`). Wharf runs as its own process (`wharf serve --log-level warn`: request logging, which costs throughput at `info`, is off); nginx 1.22 runs one worker with `access_log off`. '
    + 'Server and load tool share the same CPUs, so absolute numbers are low and vary between runs: quote the ratios and medians measured in the same run, not one absolute figure.');
  if (r.simple) {
    const s = r.simple;
    out.push('', '### Simple page: requests/s against nginx', '');
    out.push(`\`GET ${s.pagePath}\`: one project of ${r.targetFiles} files in a repository of ${fmt(r.largestProjects)} projects and ${fmt(r.largestFiles)} files. nginx serves the bytes Wharf served, as a static file (gzip variant: Wharf's own gzip bytes through \`gzip_static\`). `
      + `\`wrk -t${s.wrk.threads} -c${s.wrk.connections} -d${s.wrk.durationSec}s\` for both, ${s.rounds} rounds each, interleaved (ABBA), after a 3 s warm-up each.`);
    out.push('');
    out.push(table(['encoding', 'body bytes', 'req/s: Wharf', 'nginx', 'bare node:http', 'Wharf / nginx', 'node:http / nginx', 'CPU per request: Wharf', 'nginx', 'node:http'],
      s.variants.map((v) => [v.label, fmt(v.bodyBytes), fmt(v.median.wharf), fmt(v.median.nginx), fmt(v.median.node),
        `**${(v.median.wharf / v.median.nginx).toFixed(2)}×**`, `${(v.median.node / v.median.nginx).toFixed(2)}×`,
        `${median(v.cpuUs.wharf).toFixed(0)} µs`, `${median(v.cpuUs.nginx).toFixed(0)} µs`, `${median(v.cpuUs.node).toFixed(0)} µs`])));
    out.push('', 'Requests/s are medians over the rounds; every round: ' + s.variants.map((v) => `${v.label}: Wharf ${v.runs.wharf.map((x) => fmt(x.requestsPerSec)).join(', ')}; nginx ${v.runs.nginx.map((x) => fmt(x.requestsPerSec)).join(', ')}; node:http ${v.runs.node.map((x) => fmt(x.requestsPerSec)).join(', ')}`).join('. ') + '.');
    out.push('', '"bare node:http" is a 15-line `node:http` server answering with the same bytes from memory (bench/lib/static-node.ts): the floor for any Node.js server. '
      + 'CPU per request is the server process\'s user + system time (`/proc/<pid>/stat`) over a round divided by the requests wrk completed (median over rounds): unlike requests/s it hardly depends on how the two CPUs were shared during the round.');
    const worst = Math.min(...s.variants.map((v) => v.median.wharf / v.median.nginx));
    out.push('', `Goal ≥ 0.5× nginx (aim: parity): ${worst >= 0.5 ? `**met** (lowest ratio ${worst.toFixed(2)}×)` : `**not met** (lowest ratio ${worst.toFixed(2)}×)`}.`);
  }
  if (r.latency) {
    const l = r.latency;
    const first = l[0];
    const last = l[l.length - 1];
    out.push('', '### Simple page latency against repository size', '');
    out.push(`The same project page (${r.targetFiles} files) in repositories of growing size; ${fmt(first.latenciesMs.length)} sequential requests per repository over one keep-alive connection (Node \`http.Agent\`), repositories interleaved over ${r.rounds} rounds.`);
    out.push('');
    out.push(table(['repository', 'files', 'projects', 'page bytes', 'median', 'p99', 'median / smallest'],
      l.map((x) => [x.repo, fmt(x.files), fmt(x.projects), fmt(x.bytes), `${x.medianMs.toFixed(3)} ms`, `${x.p99Ms.toFixed(3)} ms`, `${(x.medianMs / first.medianMs).toFixed(2)}×`])));
    const ratio = last.medianMs / first.medianMs;
    out.push('', `Median at ${fmt(last.files)} files / median at ${fmt(first.files)} files: **${ratio.toFixed(2)}×**. Goal "flat": ${ratio <= 1.2 ? '**met**' : '**not met**'} (counted as flat within 1.2×).`);
  }
  if (r.ingest) {
    const methods = [...new Set(r.ingest.map((x) => x.method))];
    out.push('', `### Ingest: ${fmt(r.ingest[0].files)} tiny wheels in one \`twine upload\``, '');
    out.push('Debian\'s twine 4, one process uploading every file (one multipart POST each) to a fresh repository per run. Password: HTTP Basic `admin:password` (the server verifies the scrypt hash once, then remembers the verified password for a few minutes); token: `__token__` with an API token. '
      + 'Per-file time is the gap between twine\'s successive `Uploading` lines (includes twine\'s own hashing and metadata reading). Reference: one `curl -T "{…}"` PUT-ing the same files over one connection to nginx with `dav_methods PUT`: transport and disk only, no parsing.');
    out.push('');
    out.push(table(['method', 'runs', 'files/s (median)', 'per-file median', 'runs (files/s)'],
      methods.map((m) => {
        const runs = r.ingest!.filter((x) => x.method === m);
        return [m, String(runs.length), fmt(median(runs.map((x) => x.filesPerSec)), 1), `${median(runs.map((x) => x.perFileMedianMs)).toFixed(1)} ms`, runs.map((x) => x.filesPerSec.toFixed(1)).join(', ')];
      })));
    const pw = median(r.ingest.filter((x) => x.method === 'twine, password').map((x) => x.filesPerSec));
    const tok = median(r.ingest.filter((x) => x.method === 'twine, token').map((x) => x.filesPerSec));
    const dav = median(r.ingest.filter((x) => x.method === 'curl PUT to nginx (dav)').map((x) => x.filesPerSec));
    out.push('', `Token / password: ${(tok / pw).toFixed(2)}×; twine (password) / curl-to-nginx: ${(pw / dav).toFixed(2)}×.`);
  }
  if (r.upload) {
    out.push('', `### Server memory during a ${mib(r.upload[0].bytes).replace(' MiB', '')} MiB upload`, '');
    out.push('A valid wheel with one STORED payload entry, written by streaming. A fresh Wharf process per method; a tiny wheel is uploaded the same way first, then the baseline VmRSS is read; VmRSS is sampled from `/proc/<pid>/status` every 100 ms during the upload, and VmHWM (peak since start) read at the end.');
    out.push('');
    out.push(table(['method', 'time', 'MiB/s', 'baseline RSS', 'peak RSS (samples)', 'VmHWM', 'growth'],
      r.upload.map((u) => [u.method, `${u.seconds.toFixed(1)} s`, fmt(u.bytes / 2 ** 20 / u.seconds, 0), mib(u.baselineRss), `${mib(u.peakRss)} (${u.samples})`, mib(u.hwm), `**${mib(u.growth)}**`])));
    const worst = Math.max(...r.upload.map((u) => u.growth));
    out.push('', `Goal: growth < 100 MB: ${worst < 100e6 ? '**met**' : '**not met**'} (largest growth ${mib(worst)}).`);
  }
  return out.join('\n');
}

if (import.meta.main) await main(process.argv.slice(2));
