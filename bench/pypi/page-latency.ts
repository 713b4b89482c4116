// Latency of one project's simple page (the same project, same files) in repositories of
// growing size: sequential keep-alive requests, repositories interleaved round by round.
import { sequentialLatency } from '../lib/load.ts';
import { median, percentile } from '../lib/stats.ts';
import type { RunningServer } from '../lib/processes.ts';

export interface LatencyRow {
  repo: string;
  files: number;
  projects: number;
  bytes: number;
  latenciesMs: number[];
  medianMs: number;
  p99Ms: number;
}

export async function pageLatency(opts: {
  wharf: RunningServer;
  repos: { name: string; files: number; projects: number; pagePath: string }[];
  requests: number;
  rounds: number;
  log: (m: string) => void;
}): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = opts.repos.map((r) => ({ repo: r.name, files: r.files, projects: r.projects, bytes: 0, latenciesMs: [], medianMs: 0, p99Ms: 0 }));
  for (const r of opts.repos) await sequentialLatency(`${opts.wharf.url}${r.pagePath}`, 200);
  const perRequest = Math.ceil(opts.requests / opts.rounds);
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? opts.repos.map((_, i) => i) : opts.repos.map((_, i) => i).reverse();
    for (const i of order) {
      const res = await sequentialLatency(`${opts.wharf.url}${opts.repos[i].pagePath}`, perRequest);
      rows[i].latenciesMs.push(...res.latenciesMs);
      rows[i].bytes = res.bytes;
    }
    opts.log(`page latency: round ${round + 1}/${opts.rounds} done`);
  }
  for (const row of rows) {
    row.medianMs = median(row.latenciesMs);
    row.p99Ms = percentile(row.latenciesMs, 99);
  }
  return rows;
}
