// Requests/s of one project's simple page, Wharf against nginx serving the same bytes as a
// static file: the same wrk settings, rounds interleaved (ABBA) so drift hits both alike.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuSecondsOf, startNginx, startStaticNode, type RunningServer } from '../lib/processes.ts';
import { wrk, type WrkOptions, type WrkResult } from '../lib/load.ts';
import { median } from '../lib/stats.ts';
import { rawGet } from './admin.ts';

export interface ThroughputVariant {
  label: string;
  headers: Record<string, string>;
  bodyBytes: number;
  runs: Record<Contender, WrkResult[]>;
  /** Server CPU time per request (user + system), in microseconds, per round. */
  cpuUs: Record<Contender, number[]>;
  median: Record<Contender, number>;
}

/** nginx is the reference; bare node:http shows what any Node.js server costs. */
export type Contender = 'nginx' | 'node' | 'wharf';
const CONTENDERS: Contender[] = ['nginx', 'node', 'wharf'];
const empty = <T>(f: () => T): Record<Contender, T> => ({ nginx: f(), node: f(), wharf: f() });

export interface SimplePageResult {
  pagePath: string;
  wrk: WrkOptions;
  rounds: number;
  variants: ThroughputVariant[];
}

export async function simplePageThroughput(opts: {
  wharf: RunningServer;
  pagePath: string;
  workDir: string;
  rounds: number;
  wrk: WrkOptions;
  gzip: boolean;
  log: (m: string) => void;
}): Promise<SimplePageResult> {
  const { wharf, pagePath } = opts;
  // nginx gets exactly the bytes Wharf serves: plain, and Wharf's own gzip for gzip_static.
  const plain = await rawGet(`${wharf.url}${pagePath}`);
  if (plain.status !== 200) throw new Error(`${pagePath}: HTTP ${plain.status}`);
  const gz = await rawGet(`${wharf.url}${pagePath}`, { 'accept-encoding': 'gzip' });
  if (opts.gzip && gz.headers['content-encoding'] !== 'gzip') throw new Error('Wharf did not answer with gzip');
  const prefix = join(opts.workDir, 'nginx-simple');
  await rm(prefix, { recursive: true, force: true });
  const root = join(prefix, 'www');
  const dir = join(root, pagePath);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.html'), plain.body);
  await writeFile(join(dir, 'index.html.gz'), gz.body);
  const nginx = await startNginx(prefix, root, { gzipStatic: true });
  const node = await startStaticNode(join(dir, 'index.html'), join(dir, 'index.html.gz'));
  const servers: Record<Contender, RunningServer> = { nginx, node, wharf };
  try {
    const check = await rawGet(`${nginx.url}${pagePath}`);
    if (!check.body.equals(plain.body)) throw new Error('nginx does not serve the same bytes as Wharf');
    const variants: ThroughputVariant[] = [{ label: 'identity (no Accept-Encoding)', headers: {}, bodyBytes: plain.body.length, runs: empty(() => []), cpuUs: empty(() => []), median: empty(() => 0) }];
    if (opts.gzip) {
      const check = await rawGet(`${nginx.url}${pagePath}`, { 'accept-encoding': 'gzip' });
      if (!check.body.equals(gz.body)) throw new Error('nginx gzip_static does not serve the same bytes as Wharf');
      variants.push({ label: 'gzip (Accept-Encoding: gzip)', headers: { 'Accept-Encoding': 'gzip' }, bodyBytes: gz.body.length, runs: empty(() => []), cpuUs: empty(() => []), median: empty(() => 0) });
    }
    // Warm-up: JIT, the index cache, TCP; not counted.
    for (const s of [wharf, nginx, node]) await wrk(`${s.url}${pagePath}`, { ...opts.wrk, durationSec: 3 });
    for (let r = 0; r < opts.rounds; r++) {
      for (const v of variants) {
        const order = r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
        for (const who of order) {
          const server = servers[who];
          const cpu0 = await cpuSecondsOf(server.pid);
          const res = await wrk(`${server.url}${pagePath}`, { ...opts.wrk, headers: v.headers });
          const cpuUs = ((await cpuSecondsOf(server.pid)) - cpu0) * 1e6 / res.requests;
          v.runs[who].push(res);
          v.cpuUs[who].push(cpuUs);
          opts.log(`simple page: round ${r + 1} ${v.label} ${who}: ${Math.round(res.requestsPerSec)} req/s, ${cpuUs.toFixed(0)} µs CPU per request`);
        }
      }
    }
    for (const v of variants) for (const c of CONTENDERS) v.median[c] = median(v.runs[c].map((x) => x.requestsPerSec));
    return { pagePath, wrk: opts.wrk, rounds: opts.rounds, variants };
  } finally {
    await node.stop();
    await nginx.stop();
  }
}
