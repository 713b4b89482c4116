// Requests/s of one project's simple page, Wharf against nginx serving the same bytes as a
// static file: the same wrk settings, rounds interleaved (ABBA) so drift hits both alike.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startNginx, type RunningServer } from '../lib/processes.ts';
import { wrk, type WrkOptions, type WrkResult } from '../lib/load.ts';
import { median } from '../lib/stats.ts';
import { rawGet } from './admin.ts';

export interface ThroughputVariant {
  label: string;
  headers: Record<string, string>;
  bodyBytes: number;
  wharf: WrkResult[];
  nginx: WrkResult[];
  wharfMedian: number;
  nginxMedian: number;
}

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
  try {
    const check = await rawGet(`${nginx.url}${pagePath}`);
    if (!check.body.equals(plain.body)) throw new Error('nginx does not serve the same bytes as Wharf');
    const variants: ThroughputVariant[] = [{ label: 'identity (no Accept-Encoding)', headers: {}, bodyBytes: plain.body.length, wharf: [], nginx: [], wharfMedian: 0, nginxMedian: 0 }];
    if (opts.gzip) {
      const check = await rawGet(`${nginx.url}${pagePath}`, { 'accept-encoding': 'gzip' });
      if (!check.body.equals(gz.body)) throw new Error('nginx gzip_static does not serve the same bytes as Wharf');
      variants.push({ label: 'gzip (Accept-Encoding: gzip)', headers: { 'Accept-Encoding': 'gzip' }, bodyBytes: gz.body.length, wharf: [], nginx: [], wharfMedian: 0, nginxMedian: 0 });
    }
    // Warm-up: JIT, the index cache, TCP; not counted.
    for (const s of [wharf, nginx]) await wrk(`${s.url}${pagePath}`, { ...opts.wrk, durationSec: 3 });
    for (let r = 0; r < opts.rounds; r++) {
      for (const v of variants) {
        const order = r % 2 === 0 ? ['nginx', 'wharf'] as const : ['wharf', 'nginx'] as const;
        for (const who of order) {
          const server = who === 'nginx' ? nginx : wharf;
          const res = await wrk(`${server.url}${pagePath}`, { ...opts.wrk, headers: v.headers });
          v[who].push(res);
          opts.log(`simple page: round ${r + 1} ${v.label} ${who}: ${Math.round(res.requestsPerSec)} req/s`);
        }
      }
    }
    for (const v of variants) {
      v.wharfMedian = median(v.wharf.map((x) => x.requestsPerSec));
      v.nginxMedian = median(v.nginx.map((x) => x.requestsPerSec));
    }
    return { pagePath, wrk: opts.wrk, rounds: opts.rounds, variants };
  } finally {
    await nginx.stop();
  }
}
