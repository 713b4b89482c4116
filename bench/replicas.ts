// Several replicas (docs/scale-out.md): simple-page and download throughput through nginx in
// front of one and of two replicas on one PostgreSQL database and one S3 bucket (s3rver), and
// the time from an upload's response on one replica to the new page on the other.
// Results go to the `## Replicas` section of docs/benchmarks.md. Run by hand (bench/README.md):
//   node bench/run.ts replicas [--duration S] [--rounds N] [--uploads N] [--no-write]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sharedPostgres } from '../test/helpers/engines.ts';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { replicaAuth, startLoadBalancer, startReplicas } from '../test/helpers/replicas.ts';
import { wrk, type WrkResult } from './lib/load.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { ROOT } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, percentile, ratio } from './lib/stats.ts';

const PROJECT = 'replica-target';
const FILE_PATH = '/files/bench/blob-1m.bin';

async function upload(base: string, name: string, version: string, platformTag = 'any'): Promise<string> {
  const o = { name, version, platformTag, pythonTag: 'py3', abiTag: 'none' };
  const file = wheelFilename(o);
  const form = new FormData();
  form.set(':action', 'file_upload');
  form.set('protocol_version', '1');
  form.set('content', new Blob([buildWheel(o)]), file);
  const res = await fetch(`${base}/pypi/`, { method: 'POST', body: form, headers: { authorization: replicaAuth } });
  if (res.status !== 200) throw new Error(`upload ${file}: HTTP ${res.status} ${await res.text()}`);
  return file;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '32' },
      uploads: { type: 'string', default: '50' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const durationSec = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const uploads = Number(values.uploads);
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'wharf-bench-replicas-'));
  const set = await startReplicas(2, {
    config: { repositories: [{ name: 'pypi', format: 'pypi', kind: 'hosted', public: true }, { name: 'files', format: 'files', kind: 'hosted', public: true }] },
  });
  const [A, B] = set.replicas;
  const one = await startLoadBalancer(join(dir, 'nginx-one'), [`127.0.0.1:${A.port}`]);
  try {
    // A simple page of 40 files, like a project with a few releases and wheels per platform.
    for (let i = 0; i < 20; i++) for (const p of ['any', 'linux_x86_64']) await upload(A.url, PROJECT, `1.${i}.0`, p);
    const fileBytes = randomBytes(1024 * 1024);
    const put = await fetch(`${A.url}${FILE_PATH}`, { method: 'PUT', body: fileBytes, headers: { authorization: replicaAuth } });
    if (put.status !== 201) throw new Error(`PUT: HTTP ${put.status}`);

    // Throughput: the same nginx configuration before one replica and before both, ABAB.
    const targets = [['simple page', `/pypi/simple/${PROJECT}/`], ['1 MiB file', FILE_PATH]] as const;
    const results: Record<string, Record<'one' | 'two', WrkResult[]>> = {};
    for (const [label, urlPath] of targets) {
      results[label] = { one: [], two: [] };
      for (const [which, base] of [['one', one.url], ['two', set.url]] as const) await wrk(`${base}${urlPath}`, { threads: 2, connections, durationSec: 3 }); // warm-up
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 ? (['two', 'one'] as const) : (['one', 'two'] as const);
        for (const which of order) {
          const res = await wrk(`${which === 'one' ? one.url : set.url}${urlPath}`, { threads: 2, connections, durationSec });
          results[label][which].push(res);
          process.stderr.write(`${label} ${which} round ${r + 1}: ${fmt(res.requestsPerSec)} req/s, p50 ${res.latencyP50Ms.toFixed(1)} ms\n`);
        }
      }
    }

    // Propagation: an upload answered by A, then B's page polled until it lists the file.
    const propagation: number[] = [];
    const polls: number[] = [];
    for (let i = 0; i < uploads; i++) {
      const file = await upload(A.url, 'replica-prop', `2.${i}.0`);
      const t0 = performance.now();
      for (let n = 1; ; n++) {
        const page = await (await fetch(`${B.url}/pypi/simple/replica-prop/`)).text();
        if (page.includes(file)) {
          propagation.push(performance.now() - t0);
          polls.push(n);
          break;
        }
        if (performance.now() - t0 > 30_000) throw new Error(`${file} did not show on B within 30 s`);
      }
    }

    const rows = targets.map(([label]) => {
      const o = median(results[label].one.map((r) => r.requestsPerSec));
      const t = median(results[label].two.map((r) => r.requestsPerSec));
      const p50o = median(results[label].one.map((r) => r.latencyP50Ms));
      const p50t = median(results[label].two.map((r) => r.latencyP50Ms));
      return [label, fmt(o), fmt(t), `**${ratio(t, o)}**`, p50o.toFixed(1), p50t.toFixed(1)];
    });
    const every = targets.map(([label]) => `${label}: one ${results[label].one.map((r) => fmt(r.requestsPerSec)).join(', ')}; two ${results[label].two.map((r) => fmt(r.requestsPerSec)).join(', ')}`).join('. ');
    const body = [
      `Run with \`node bench/run.ts replicas\` (see \`bench/README.md\`). Replicas are \`wharf serve\` processes (\`--log-level warn\`) on one PostgreSQL 15 database and one s3rver bucket (test/helpers/replicas.ts), behind Debian's nginx 1.22 (one worker, round robin, the configuration of docs/scale-out.md). "one" is the same nginx configuration with only replica A behind it. \`wrk -t2 -c${connections} -d${durationSec}s\`, ${rounds} rounds each, interleaved, after a 3 s warm-up. Simple page: \`/pypi/simple/${PROJECT}/\` (40 files; anonymous, so answered from the response cache); file: 1 MiB from the bucket, streamed through the replica.`,
      '',
      machineLine(machine),
      '',
      table(['target', 'req/s: one replica', 'two replicas', 'two / one', 'p50 ms: one', 'two'], rows),
      '',
      `Requests/s are medians over the rounds; every round: ${every}.`,
      '',
      `Upload on A to the new page on B: the time from A's answer to a twine-style upload (a multipart POST) until B's \`/pypi/simple/replica-prop/\` lists the file, over ${uploads} uploads: median **${propagation.length ? median(propagation).toFixed(1) : 'n/a'} ms**, p95 ${percentile(propagation, 95).toFixed(1)} ms, max ${Math.max(...propagation).toFixed(1)} ms; B's first read listed it ${polls.filter((n) => n === 1).length} times of ${uploads} (read-after-write across replicas: the change feed is read before every request).`,
      '',
      'Every process (load generator, nginx, both replicas, PostgreSQL, s3rver) shares the same CPUs: on two cores a second replica adds no CPU, only a second process competing for them (and s3rver bounds the file\'s rate), so a ratio below 1× here is not what a second machine would give; why the page loses that much was not investigated.',
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Replicas', body);
  } finally {
    await one.stop();
    await set.close();
    await (await sharedPostgres()).close();
    await rm(dir, { recursive: true, force: true });
  }
}
