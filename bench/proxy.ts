// The proxy benchmark (issue 5): warm-cache page and file throughput through a PyPI proxy
// against the same bytes from a hosted repository, and the overhead of a cold fetch through
// the proxy against fetching from the upstream directly. Results go to the `## Proxy`
// section of docs/benchmarks.md. Run by hand: node bench/run.ts proxy [--quick] [--no-write]
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { wrk } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { cpuSecondsOf, ROOT, startWharf, type RunningServer } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median } from './lib/stats.ts';

const PASSWORD = 'bench-admin-password';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

async function api(server: RunningServer, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${server.url}/-/api/v1${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

async function upload(server: RunningServer, repo: string, filename: string, data: Buffer): Promise<void> {
  const res = await fetch(`${server.url}/-/api/v1/repositories/${repo}/upload?filename=${filename}`, { method: 'POST', body: data, headers: { authorization: auth, 'content-type': 'application/octet-stream' } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload ${filename}: ${res.status} ${await res.text()}`);
}

/** The server's garbage collections so far, by kind (its /-/metrics). */
async function gcCounts(server: RunningServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/-/metrics`, { headers: { authorization: auth } })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^process_gc_total\{kind="(\w+)"\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
  for (const m of text.matchAll(/^wharf_proxy_young_collections_total (\d+)$/gm)) out.asked = Number(m[1]);
  return out;
}

async function timedGet(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return performance.now() - t;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      // Profile one side: e.g. --local-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"
      'local-node-args': { type: 'string' },
      // `cold` skips the warm-cache rounds (for profiling; the section is then not written).
      only: { type: 'string', default: 'warm,cold' },
      cold: { type: 'string' },
    },
  });
  const quick = values.quick;
  const rounds = quick ? 1 : 3;
  const duration = quick ? 3 : 8;
  const files = quick ? 50 : 200;
  const coldFiles = values.cold ? Number(values.cold) : quick ? 10 : 30;
  const work = join(ROOT, 'bench/.work/proxy');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const machine = machineInfo();
  const load0 = loadavg();

  const upstream = await startWharf({ data: join(work, 'upstream'), adminPassword: PASSWORD });
  const local = await startWharf({ data: join(work, 'local'), adminPassword: PASSWORD, nodeArgs: values['local-node-args']?.split(' ').filter(Boolean) });
  try {
    process.stderr.write(`populating: ${files} files in hosted repositories, ${coldFiles} 1 MiB wheels upstream\n`);
    await api(local, 'POST', '/repositories', { name: 'proxy', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, metadataTtl: 3600 } });
    const filler = Buffer.alloc(100 * 1024, 7);
    for (let i = 0; i < files; i++) {
      const version = `1.${i}`;
      const data = buildWheel({ name: 'target-project', version, extraFiles: { 'target_project/data.bin': i === 0 ? filler : Buffer.from(String(i)) } });
      const name = wheelFilename({ name: 'target-project', version });
      await upload(upstream, 'pypi', name, data);
      await upload(local, 'pypi', name, data);
    }
    let coldBytes = 0;
    for (let i = 0; i < coldFiles; i++) {
      // Random bytes: deflate cannot shrink them, so the wheel really weighs 1 MiB.
      const data = buildWheel({ name: 'cold-project', version: `2.${i}`, extraFiles: { 'cold_project/blob.bin': randomBytes(1024 * 1024) } });
      coldBytes = data.length;
      await upload(upstream, 'pypi', wheelFilename({ name: 'cold-project', version: `2.${i}` }), data);
    }

    const page = (s: RunningServer, repo: string) => `${s.url}/${repo}/simple/target-project/`;
    const file = (s: RunningServer, repo: string) => `${s.url}/${repo}/packages/target-project/${wheelFilename({ name: 'target-project', version: '1.0' })}`;
    // Warm the proxy: the page and the file are fetched once.
    await timedGet(page(local, 'proxy'));
    await timedGet(file(local, 'proxy'));

    const cases: { what: string; headers: Record<string, string>; url: (s: RunningServer, repo: string) => string }[] = [
      { what: 'simple page (gzip)', headers: { 'accept-encoding': 'gzip' }, url: page },
      { what: 'simple page (JSON, gzip)', headers: { 'accept-encoding': 'gzip', accept: 'application/vnd.pypi.simple.v1+json' }, url: page },
      { what: 'wheel file (100 KiB)', headers: {}, url: file },
    ];
    const rows: string[][] = [];
    const ratios: number[] = [];
    const parts = values.only.split(',');
    for (const c of parts.includes('warm') ? cases : []) {
      const hosted: number[] = [];
      const proxied: number[] = [];
      for (let r = 0; r < rounds; r++) {
        for (const [list, repo] of (r % 2 ? [[proxied, 'proxy'], [hosted, 'pypi']] : [[hosted, 'pypi'], [proxied, 'proxy']]) as [number[], string][]) {
          list.push((await wrk(c.url(local, repo), { threads: 2, connections: 32, durationSec: duration, headers: c.headers })).requestsPerSec);
        }
      }
      const ratio = median(proxied) / median(hosted);
      ratios.push(ratio);
      rows.push([c.what, fmt(median(hosted)), fmt(median(proxied)), `**${ratio.toFixed(2)}×**`, `${hosted.map((x) => fmt(x)).join(', ')} / ${proxied.map((x) => fmt(x)).join(', ')}`]);
      process.stderr.write(`${c.what}: hosted ${fmt(median(hosted))}, proxy ${fmt(median(proxied))} req/s\n`);
    }

    // Cold fetches: the same 1 MiB files, directly from the upstream and (first time) through the proxy.
    const direct: number[] = [];
    const cold: number[] = [];
    await timedGet(`${local.url}/proxy/simple/cold-project/`);
    const gc0 = await gcCounts(local);
    const cpu0 = await cpuSecondsOf(local.pid);
    for (let i = 0; i < coldFiles; i++) {
      const name = wheelFilename({ name: 'cold-project', version: `2.${i}` });
      const d = () => timedGet(`${upstream.url}/pypi/packages/cold-project/${name}`).then((ms) => direct.push(ms));
      const p = () => timedGet(`${local.url}/proxy/packages/cold-project/${name}`).then((ms) => cold.push(ms));
      if (i % 2) {
        await d();
        await p();
      } else {
        await p();
        await d();
      }
    }
    // Whatever the proxy still does after a fetch (storing) is in its CPU time too.
    await new Promise((r) => setTimeout(r, 500));
    const proxyCpuMs = ((await cpuSecondsOf(local.pid)) - cpu0) * 1000 / coldFiles;
    const gc1 = await gcCounts(local);
    const gcDelta = (k: string) => (gc1[k] ?? 0) - (gc0[k] ?? 0);
    const gcLine = `Garbage collections in the proxy process over the ${coldFiles} cold fetches (its /-/metrics): ${gcDelta('major')} full (mark-compact), ${gcDelta('minor')} young (of which ${gcDelta('asked')} asked for after downloads).`;
    const load1 = loadavg();
    const body = [
      '',
      `${machineLine(machine)} Load average ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end.`,
      '',
      'Run with `npm run bench -- proxy`. Two Wharf processes on 127.0.0.1: the upstream (a hosted PyPI repository) and the local server with a hosted repository holding the same files and a proxy repository of the upstream (`metadataTtl` 3600 s). The proxy is warmed by one request for the page and one for the file. `wrk -t2 -c32`, ' + `${duration} s per round, ${rounds} round(s) per side, interleaved.`,
      '',
      '### Warm cache: proxy against hosted',
      '',
      table(['what', 'hosted req/s', 'proxy req/s', 'proxy / hosted', 'rounds (hosted / proxy)'], rows),
      '',
      ratios.length ? `Goal: warm ≥ 0.9× hosted: **${ratios.every((r) => r >= 0.9) ? 'met' : 'not met'}** (lowest ${Math.min(...ratios).toFixed(2)}×).` : 'Warm cache: not measured in this run (`--only cold`).',
      '',
      '### Cold fetch: through the proxy against the upstream directly',
      '',
      `${coldFiles} different 1 MiB wheels (${fmt(coldBytes)} bytes each: random, incompressible content), each fetched once directly from the upstream and once through the proxy (first request: fetched, verified against the sha256 of the upstream page, stored, streamed), interleaved.`,
      '',
      table(['', 'median', 'p90'], [
        ['upstream directly', `${median(direct).toFixed(1)} ms`, `${direct.sort((a, b) => a - b)[Math.floor(direct.length * 0.9)].toFixed(1)} ms`],
        ['through the proxy, cold', `${median(cold).toFixed(1)} ms`, `${cold.sort((a, b) => a - b)[Math.floor(cold.length * 0.9)].toFixed(1)} ms`],
      ]),
      '',
      `Cold overhead: **${(median(cold) / median(direct)).toFixed(2)}×** the direct fetch (${(median(cold) - median(direct)).toFixed(1)} ms more at the median). CPU of the proxy process per cold fetch (fetch, verify, stream, store; /proc/<pid>/stat over the phase): ${proxyCpuMs.toFixed(1)} ms.`,
      '',
      gcLine,
      '',
    ].join('\n');
    if (!values['no-write'] && parts.includes('warm')) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Proxy', body);
    process.stdout.write(body + '\n');
  } finally {
    await local.stop();
    await upstream.stop();
  }
}
