// `wharf serve --workers`: simple-page throughput of one process against
// two workers (node:cluster) on one PostgreSQL database, both servers running at once and
// measured in turn. Results go to the `## Workers` section of docs/benchmarks.md. By hand:
//   node bench/run.ts workers [--duration S] [--rounds N] [--connections C] [--workers N] [--no-write]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freshPostgresUrl, sharedPostgres } from '../test/helpers/engines.ts';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { wrk, type WrkResult } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { ROOT, startWharf } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, ratio } from './lib/stats.ts';

const PROJECT = 'workers-target';
const PASSWORD = 'bench-workers-pw';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

async function upload(base: string, version: string, platformTag: string): Promise<void> {
  const o = { name: PROJECT, version, platformTag, pythonTag: 'py3', abiTag: 'none' };
  const form = new FormData();
  form.set(':action', 'file_upload');
  form.set('protocol_version', '1');
  form.set('content', new Blob([buildWheel(o)]), wheelFilename(o));
  const res = await fetch(`${base}/pypi/`, { method: 'POST', body: form, headers: { authorization: auth } });
  if (res.status !== 200) throw new Error(`upload: HTTP ${res.status} ${await res.text()}`);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '32' },
      workers: { type: 'string', default: '2' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const durationSec = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const n = Number(values.workers);
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'wharf-bench-workers-'));
  const database = await freshPostgresUrl();
  delete process.env.WHARF_DATABASE_URL;
  const config = join(dir, 'wharf.json');
  await writeFile(config, JSON.stringify({ repositories: [{ name: 'pypi', format: 'pypi', kind: 'hosted', public: true }] }));
  // One database: the second server is a replica of the first, so both serve the same page.
  const one = await startWharf({ data: join(dir, 'one'), adminPassword: PASSWORD, serveArgs: ['--database', database, '--config', config] });
  const many = await startWharf({ data: join(dir, 'many'), adminPassword: PASSWORD, logLevel: 'error', serveArgs: ['--database', database, '--config', config, '--workers', String(n)] });
  try {
    for (let i = 0; i < 20; i++) for (const p of ['any', 'linux_x86_64']) await upload(one.url, `1.${i}.0`, p);
    // Simple pages only: the two servers' blobs on disk are their own data directories'.
    const targets = [['simple page', `/pypi/simple/${PROJECT}/`]] as const;
    const results: Record<string, Record<'one' | 'many', WrkResult[]>> = {};
    for (const [label, urlPath] of targets) {
      results[label] = { one: [], many: [] };
      for (const base of [one.url, many.url]) await wrk(`${base}${urlPath}`, { threads: 2, connections, durationSec: 3 }); // warm-up
      for (let r = 0; r < rounds; r++) {
        for (const which of r % 2 ? (['many', 'one'] as const) : (['one', 'many'] as const)) {
          const res = await wrk(`${which === 'one' ? one.url : many.url}${urlPath}`, { threads: 2, connections, durationSec });
          results[label][which].push(res);
          process.stderr.write(`${label} ${which} round ${r + 1}: ${fmt(res.requestsPerSec)} req/s, p50 ${res.latencyP50Ms.toFixed(1)} ms\n`);
        }
      }
    }
    const rows = targets.map(([label]) => {
      const o = median(results[label].one.map((r) => r.requestsPerSec));
      const m = median(results[label].many.map((r) => r.requestsPerSec));
      return [label, fmt(o), fmt(m), `**${ratio(m, o)}**`, median(results[label].one.map((r) => r.latencyP50Ms)).toFixed(1), median(results[label].many.map((r) => r.latencyP50Ms)).toFixed(1)];
    });
    const every = targets.map(([label]) => `${label}: one ${results[label].one.map((r) => fmt(r.requestsPerSec)).join(', ')}; ${n} workers ${results[label].many.map((r) => fmt(r.requestsPerSec)).join(', ')}`).join('. ');
    const body = [
      `Run with \`node bench/run.ts workers\` (see \`bench/README.md\`). \`wharf serve --database postgres://…\` (one process) and \`wharf serve --workers ${n}\` on the same PostgreSQL 15 database, blobs on disk, \`--log-level warn\`, both running, measured in turn. \`wrk -t2 -c${connections} -d${durationSec}s\`, ${rounds} rounds each, interleaved, after a 3 s warm-up. Simple page: \`/pypi/simple/${PROJECT}/\` (40 files, anonymous: the response cache).`,
      '',
      machineLine(machine),
      '',
      table(['target', 'req/s: one process', `${n} workers`, `${n} / one`, 'p50 ms: one', `${n} workers`], rows),
      '',
      `Requests/s are medians over the rounds; every round: ${every}.`,
      '',
      'wrk, PostgreSQL and the servers share the machine\'s cores: the workers can only gain what wrk leaves free, and the rounds spread widely (other work ran on the machine). Scaling on a machine with spare cores was not measured.',
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Workers', body);
  } finally {
    await many.stop();
    await one.stop();
    await (await sharedPostgres()).close();
    await rm(dir, { recursive: true, force: true });
  }
}
