// Behaviour and memory under many connections: 1,000 connections for 60 s on a simple page
// and on a 1 MiB file, the server's RSS before, at its peak during, and after 30 s idle,
// errors and p50/p99; the file also against nginx serving the same bytes in the same run.
// Results go to the `## Load` section of docs/benchmarks.md. Run by hand (see bench/README.md):
//   node bench/run.ts load [--quick] [--duration S] [--connections N] [--idle S] [--no-write]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { parseWrk, type WrkResult } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { memoryOf, ROOT, sampleRss, startNginx, startWharf, type RunningServer } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, mib, ratio } from './lib/stats.ts';

const run = promisify(execFile);
const ADMIN_PASSWORD = 'load-bench-admin-pw';
const PROJECT = 'load-target';
const FILE_PATH = '/files/load/blob-1m.bin';

interface Phase {
  server: 'Wharf' | 'nginx';
  target: string;
  round: number;
  wrk: WrkResult & { timeouts: number; socketErrors: string; mibPerSec: number };
  rssBefore: number;
  rssPeak: number;
  rssAfterIdle: number;
}

/** wrk without lib/load.ts's refusal of non-2xx answers: here they are a result to report. */
async function wrkRaw(url: string, o: { threads: number; connections: number; durationSec: number; headers?: Record<string, string> }) {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationSec}s`, '--latency'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const { stdout } = await run('wrk', args, { timeout: (o.durationSec + 60) * 1000 });
  const r = parseWrk(stdout);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const timeouts = Number(sock?.[4] ?? 0);
  const socketErrors = sock ? `connect ${sock[1]}, read ${sock[2]}, write ${sock[3]}, timeout ${sock[4]}` : 'none';
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(stdout);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(transfer?.[2] ?? 'B') as 'B'];
  return { ...r, timeouts, socketErrors, mibPerSec: transfer ? (Number(transfer[1]) * unit) / 1024 ** 2 : NaN };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setupWharf(url: string, fileBytes: Buffer): Promise<void> {
  const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  // A simple page of 40 files, like a project with a few releases and wheels per platform.
  for (let i = 0; i < 20; i++) {
    for (const platformTag of ['any', 'linux_x86_64']) {
      const o = { name: PROJECT, version: `1.${i}.0`, platformTag, pythonTag: 'py3', abiTag: 'none' };
      const form = new FormData();
      form.set(':action', 'file_upload');
      form.set('protocol_version', '1');
      form.set('content', new Blob([buildWheel(o)]), wheelFilename(o));
      const res = await fetch(`${url}/pypi/`, { method: 'POST', body: form, headers: { authorization: auth } });
      if (res.status !== 200) throw new Error(`upload: HTTP ${res.status} ${await res.text()}`);
    }
  }
  const created = await fetch(`${url}/-/api/v1/repositories`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'files', format: 'files', kind: 'hosted', public: true }),
  });
  if (created.status !== 201) throw new Error(`create files repo: HTTP ${created.status} ${await created.text()}`);
  const put = await fetch(`${url}${FILE_PATH}`, { method: 'PUT', body: fileBytes, headers: { authorization: auth } });
  if (put.status >= 300) throw new Error(`PUT: HTTP ${put.status} ${await put.text()}`);
  const check = Buffer.from(await (await fetch(`${url}${FILE_PATH}`)).arrayBuffer());
  if (!check.equals(fileBytes)) throw new Error('Wharf does not serve the bytes it was given');
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      connections: { type: 'string', default: '1000' },
      threads: { type: 'string', default: '2' },
      idle: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      'file-kib': { type: 'string', default: '1024' },
      only: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'wharf-node-args': { type: 'string' },
    },
  });
  const durationSec = Number(values.duration ?? (values.quick ? 10 : 60));
  const idleSec = Number(values.idle ?? (values.quick ? 10 : 30));
  const connections = Number(values.connections);
  const threads = Number(values.threads);
  const rounds = Number(values.rounds);
  const fileBytes = randomBytes(Number(values['file-kib']) * 1024);
  const parts = new Set((values.only ?? 'page,file').split(','));
  const log = (m: string) => process.stderr.write(`[load ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  const machine = machineInfo();
  log(machineLine(machine));
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' ');

  const work = join(ROOT, 'bench/.work/load');
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'www', 'files', 'load'), { recursive: true });
  await writeFile(join(work, 'www', FILE_PATH), fileBytes);
  const wharf = await startWharf({ data: join(work, 'data'), adminPassword: ADMIN_PASSWORD, nodeArgs: values['wharf-node-args']?.split(' ').filter(Boolean) });
  let nginx: RunningServer | undefined;
  const phases: Phase[] = [];
  const rssStart = (await memoryOf(wharf.pid)).rss;
  try {
    await setupWharf(wharf.url, fileBytes);
    nginx = await startNginx(join(work, 'nginx'), join(work, 'www'), { workerConnections: connections + 64 });
    const fromNginx = Buffer.from(await (await fetch(`${nginx.url}${FILE_PATH}`)).arrayBuffer());
    if (!fromNginx.equals(fileBytes)) throw new Error('nginx does not serve the same bytes');
    const pagePath = `/pypi/simple/${PROJECT}/`;
    const targets: { name: string; path: string; servers: ('Wharf' | 'nginx')[] }[] = [];
    if (parts.has('page')) targets.push({ name: 'simple page', path: pagePath, servers: ['Wharf'] });
    if (parts.has('file')) targets.push({ name: `${mib(fileBytes.length)} file`, path: FILE_PATH, servers: ['Wharf', 'nginx'] });
    log(`Wharf RSS at start ${mib(rssStart)}, after setup ${mib((await memoryOf(wharf.pid)).rss)}`);

    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const order = r % 2 === 0 ? t.servers : [...t.servers].reverse();
        for (const who of order) {
          const server = who === 'Wharf' ? wharf : nginx;
          const rssBefore = (await memoryOf(server.pid)).rss;
          const sampler = sampleRss(server.pid, 200);
          const res = await wrkRaw(`${server.url}${t.path}`, { threads, connections, durationSec });
          const { samples } = await sampler.stop();
          const rssPeak = Math.max(...samples);
          log(`${t.name} ${who} round ${r + 1}: ${fmt(res.requestsPerSec)} req/s, p50 ${fmt(res.latencyP50Ms, 1)} ms, p99 ${fmt(res.latencyP99Ms, 1)} ms, non-2xx ${res.non2xx}, socket errors: ${res.socketErrors}; RSS ${mib(rssBefore)} -> peak ${mib(rssPeak)}; idling ${idleSec} s`);
          await sleep(idleSec * 1000);
          const rssAfterIdle = (await memoryOf(server.pid)).rss;
          log(`  RSS after ${idleSec} s idle: ${mib(rssAfterIdle)}`);
          phases.push({ server: who, target: t.name, round: r + 1, wrk: res, rssBefore, rssPeak, rssAfterIdle });
        }
      }
    }
  } finally {
    await wharf.stop();
    await nginx?.stop();
  }
  const loadEnd = loadavg().map((x) => x.toFixed(1)).join(' ');
  const body = report({ phases, machine: machineLine(machine), loadStart, loadEnd, durationSec, idleSec, connections, threads, rounds, rssStart });
  process.stdout.write(`${body}\n`);
  if (!values['no-write'] && !values.quick) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Load', body);
}

function report(o: { phases: Phase[]; machine: string; loadStart: string; loadEnd: string; durationSec: number; idleSec: number; connections: number; threads: number; rounds: number; rssStart: number }): string {
  const rows = o.phases.map((p) => [
    p.target, p.server, String(p.round), fmt(p.wrk.requestsPerSec), fmt(p.wrk.mibPerSec, 0), fmt(p.wrk.latencyP50Ms, 1), fmt(p.wrk.latencyP99Ms, 1),
    fmt(p.wrk.non2xx), fmt(p.wrk.errors - p.wrk.timeouts), fmt(p.wrk.timeouts), mib(p.rssBefore), mib(p.rssPeak), mib(p.rssAfterIdle),
  ]);
  const lines = [
    `${o.machine} Other work on the machine: load average ${o.loadStart} at the start, ${o.loadEnd} at the end (1/5/15 min).`,
    '',
    `Run with \`npm run bench -- load\` (see \`bench/README.md\`). Wharf runs as its own process (\`wharf serve --log-level warn\`); nginx runs one worker with \`sendfile on\`, \`access_log off\`. \`wrk -t${o.threads} -c${o.connections} -d${o.durationSec}s\` per phase (wrk's default 2 s timeout: a request slower than that counts as a timeout), then ${o.idleSec} s idle. Server and load tool share the same CPUs. RSS is VmRSS from \`/proc/<pid>/status\`, sampled every 200 ms during a phase; Wharf's RSS right after start was ${mib(o.rssStart)}.`,
    '',
    table(['target', 'server', 'round', 'req/s', 'MiB/s', 'p50 ms', 'p99 ms', 'non-2xx', 'socket errors', 'timeouts', 'RSS before', 'RSS peak', `RSS after ${o.idleSec} s idle`], rows),
  ];
  const file = o.phases.filter((p) => p.target.endsWith('file'));
  const med = (who: string, f: (p: Phase) => number) => median(file.filter((p) => p.server === who).map(f));
  if (file.some((p) => p.server === 'nginx') && file.some((p) => p.server === 'Wharf')) {
    lines.push('', `File downloads, medians over ${o.rounds} round(s): Wharf ${fmt(med('Wharf', (p) => p.wrk.requestsPerSec))} req/s against nginx ${fmt(med('nginx', (p) => p.wrk.requestsPerSec))} req/s (**${ratio(med('Wharf', (p) => p.wrk.requestsPerSec), med('nginx', (p) => p.wrk.requestsPerSec))}**); p99 ${fmt(med('Wharf', (p) => p.wrk.latencyP99Ms), 0)} ms against ${fmt(med('nginx', (p) => p.wrk.latencyP99Ms), 0)} ms (${ratio(med('Wharf', (p) => p.wrk.latencyP99Ms), med('nginx', (p) => p.wrk.latencyP99Ms))}).`);
  }
  return lines.join('\n');
}
