// The static tree (docs/static.md): requests/s of one project's simple page through nginx
// configured as docs/static.md says (the tree first, Wharf behind), against nginx serving a
// plain copy of the same files (the page as `index.html` with its `.gz`, no map, no fallback),
// and against Wharf itself. The same wrk settings, rounds interleaved (ABC, CBA), medians.
// Results go to the `## Static tree` section of docs/benchmarks.md:
//   node bench/run.ts static [--quick] [--no-write] [--rounds N] [--duration S]
import { spawn } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { staticNginxSite } from '../test/helpers/static-fronts.ts';
import { wrk, type WrkOptions, type WrkResult } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { cpuSecondsOf, freePort, ROOT, startWharf, stop, type RunningServer } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median } from './lib/stats.ts';
import { ADMIN_PASSWORD, rawGet } from './pypi/admin.ts';
import { ensureDataset, FULL_PLANS, QUICK_PLANS, TARGET_PROJECT, totalFiles, totalProjects } from './pypi/dataset.ts';

type Contender = 'static' | 'plain' | 'wharf';
const CONTENDERS: Contender[] = ['static', 'plain', 'wharf'];
const NAMES: Record<Contender, string> = { static: 'static tree via nginx (docs/static.md)', plain: 'nginx, plain copy', wharf: 'Wharf alone' };

interface Variant {
  label: string;
  headers: Record<string, string>;
  /** The plain copy has no content negotiation: the file to ask it for, below the page's URL. */
  plainFile: string;
  bytes: number;
  runs: Record<Contender, WrkResult[]>;
  cpuUs: Record<Contender, number[]>;
}

const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const HTML_ACCEPT = 'text/html';

/** The same process settings for both nginx instances: one worker, no access log, PCRE JIT (docs/static.md recommends it). */
function nginxConf(prefix: string, site: string): string {
  return `worker_processes 1;
daemon off;
pcre_jit on;
master_process off;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs/error.log')} warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_body_temp_path ${join(prefix, 'tmp/body')};
  proxy_temp_path ${join(prefix, 'tmp/proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp/fastcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp/uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp/scgi')};
${site}
}
`;
}

async function startNginxWith(prefix: string, site: (port: number) => Promise<string> | string): Promise<RunningServer> {
  await rm(prefix, { recursive: true, force: true });
  for (const d of ['logs', 'tmp']) await mkdir(join(prefix, d), { recursive: true });
  const port = await freePort();
  await writeFile(join(prefix, 'nginx.conf'), nginxConf(prefix, await site(port)));
  const child = spawn('/usr/sbin/nginx', ['-c', join(prefix, 'nginx.conf'), '-p', prefix], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx (${prefix}) exited ${child.exitCode}`);
    if (await fetch(`${url}/-/none`).then(() => true, () => false)) break;
    if (Date.now() > deadline) throw new Error(`nginx (${prefix}) did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, pid: child.pid!, stop: () => stop(child) };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
    },
  });
  const quick = values.quick;
  const log = (m: string) => process.stderr.write(`[static] ${m}\n`);
  const plan = quick ? QUICK_PLANS[1] : FULL_PLANS[1];
  const rounds = Number(values.rounds ?? (quick ? 2 : 3));
  const wrkOpts: WrkOptions = { threads: Number(values.threads), connections: Number(values.connections), durationSec: Number(values.duration ?? (quick ? 3 : 10)) };
  const work = join(ROOT, 'bench/.work');
  await mkdir(work, { recursive: true });
  const load0 = loadavg()[0];

  const dataset = await ensureDataset(work, [plan], ADMIN_PASSWORD, log);
  const tree = join(work, `static-tree-${plan.name}`);
  await rm(tree, { recursive: true, force: true });
  const t0 = performance.now();
  const wharf = await startWharf({ data: dataset.data, adminPassword: ADMIN_PASSWORD, serveArgs: ['--static-dir', tree] });
  const treeSeconds = (performance.now() - t0) / 1000;
  log(`Wharf started and wrote the tree of ${totalFiles(plan)} files in ${treeSeconds.toFixed(1)} s`);
  const page = `/${plan.name}/simple/${TARGET_PROJECT}/`;

  // The plain copy: the tree's files, with the negotiated pages where a plain server finds them.
  const plainRoot = join(work, `static-plain-${plan.name}`);
  await rm(plainRoot, { recursive: true, force: true });
  await cp(join(tree, plan.name), join(plainRoot, plan.name), { recursive: true });
  await cp(join(tree, '-/negotiated', plan.name), join(plainRoot, plan.name), { recursive: true });

  const staticNginx = await startNginxWith(join(work, 'nginx-static-tree'), (port) => staticNginxSite({ port, root: tree, wharf: `127.0.0.1:${wharf.port}` }));
  const plainNginx = await startNginxWith(join(work, 'nginx-static-plain'), (port) => `server {
    listen 127.0.0.1:${port};
    root ${plainRoot};
    types { text/html html; application/vnd.pypi.simple.v1+json json; }
    charset utf-8;
    gzip_static on;
  }`);
  const servers: Record<Contender, RunningServer> = { static: staticNginx, plain: plainNginx, wharf };
  const urlOf = (who: Contender, v: Variant) => `${servers[who].url}${page}${who === 'plain' ? v.plainFile : ''}`;
  const empty = <T>(f: () => T): Record<Contender, T> => ({ static: f(), plain: f(), wharf: f() });
  const variants: Variant[] = [
    { label: 'HTML, gzip (a browser)', headers: { Accept: HTML_ACCEPT, 'Accept-Encoding': 'gzip' }, plainFile: 'index.html', bytes: 0, runs: empty(() => []), cpuUs: empty(() => []) },
    { label: 'JSON, gzip (pip)', headers: { Accept: PIP_ACCEPT, 'Accept-Encoding': 'gzip' }, plainFile: 'index.json', bytes: 0, runs: empty(() => []), cpuUs: empty(() => []) },
    { label: 'HTML, identity', headers: { Accept: HTML_ACCEPT }, plainFile: 'index.html', bytes: 0, runs: empty(() => []), cpuUs: empty(() => []) },
  ];
  try {
    // The three answer the same bytes, or the comparison means nothing.
    for (const v of variants) {
      const lower = Object.fromEntries(Object.entries(v.headers).map(([k, x]) => [k.toLowerCase(), x]));
      const bodies = await Promise.all(CONTENDERS.map((c) => rawGet(urlOf(c, v), lower)));
      for (const [i, b] of bodies.entries()) {
        if (b.status !== 200) throw new Error(`${CONTENDERS[i]} ${v.label}: HTTP ${b.status}`);
        if (!b.body.equals(bodies[0].body)) throw new Error(`${CONTENDERS[i]} answers other bytes than the static tree for ${v.label}`);
      }
      v.bytes = bodies[0].body.length;
    }
    for (const c of CONTENDERS) await wrk(urlOf(c, variants[0]), { ...wrkOpts, durationSec: 2, headers: variants[0].headers });
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        for (const who of r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse()) {
          const cpu0 = await cpuSecondsOf(servers[who].pid);
          const res = await wrk(urlOf(who, v), { ...wrkOpts, headers: v.headers });
          const cpuUs = ((await cpuSecondsOf(servers[who].pid)) - cpu0) * 1e6 / res.requests;
          v.runs[who].push(res);
          v.cpuUs[who].push(cpuUs);
          log(`round ${r + 1} ${v.label} ${who}: ${Math.round(res.requestsPerSec)} req/s, ${cpuUs.toFixed(0)} µs CPU per request`);
        }
      }
    }
  } finally {
    await staticNginx.stop();
    await plainNginx.stop();
    await wharf.stop();
  }

  const med = (v: Variant, c: Contender) => median(v.runs[c].map((x) => x.requestsPerSec));
  const rows = variants.map((v) => [
    v.label, fmt(v.bytes), ...CONTENDERS.map((c) => fmt(med(v, c))),
    `**${(med(v, 'static') / med(v, 'plain')).toFixed(2)}×**`, `${(med(v, 'static') / med(v, 'wharf')).toFixed(2)}×`,
    ...CONTENDERS.map((c) => fmt(median(v.cpuUs[c]))),
  ]);
  const m = machineInfo();
  const body = `${machineLine(m)} Load average ${load0.toFixed(2)} at the start. \`npm run bench -- static${quick ? ' --quick' : ''}\`.

Requests/s of \`${page}\` (${plan.targetFiles} files, in a repository of ${totalFiles(plan).toLocaleString('en')} files and ${totalProjects(plan).toLocaleString('en')} projects) through nginx with
docs/static.md's configuration (the map on Accept, \`try_files\` into the tree, Wharf behind it), against
nginx serving a plain copy of the same files (the page as \`index.html\`/\`index.json\` with their \`.gz\`, \`gzip_static\`)
and against Wharf alone. Both nginx: one worker, no access log, pcre_jit on (docs/static.md). wrk -t${wrkOpts.threads} -c${wrkOpts.connections} -d${wrkOpts.durationSec}s,
${rounds} rounds interleaved, medians; the three answered byte-identical bodies. Wharf started with \`--static-dir\` on
this data and wrote the whole tree (hard links) in ${treeSeconds.toFixed(1)} s, start-up included.

${table(['request', 'bytes', ...CONTENDERS.map((c) => `${NAMES[c]} req/s`), 'static ÷ plain', 'static ÷ Wharf', ...CONTENDERS.map((c) => `${c} µs CPU/req`)], rows)}

Every round (req/s): ${variants.map((v) => `${v.label}: ${CONTENDERS.map((c) => `${c} ${v.runs[c].map((x) => fmt(x.requestsPerSec)).join(', ')}`).join('; ')}`).join('. ')}.
`;
  process.stdout.write(`${body}\n`);
  if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Static tree', body);
}
