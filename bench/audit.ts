// What the audit trail costs an upload: bursts of uploads (Files PUTs of 1 KiB, PyPI wheels
// through the API), each upload writing its audit entry in its own transaction, against the
// same bursts with the entry's INSERT replaced by nothing (a shim in this process only: the
// product has no switch to turn the trail off). Rounds alternate on/off, each into a fresh
// repository; medians of uploads per second. Writes the `## Audit trail` section of
// docs/benchmarks.md. `node bench/run.ts audit [--quick] [--uploads N] [--rounds R] [--no-write]`
// (WHARF_TEST_DATABASE=postgres runs it on PostgreSQL).
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../src/db/audit-log.ts';
import { buildWheel, wheelFilename } from '../test/helpers/python-dists.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median } from './lib/stats.ts';

const ROOT = join(import.meta.dirname, '..');

type Kind = 'files' | 'pypi';

async function burst(s: TestServer, kind: Kind, repo: string, uploads: number, concurrency: number): Promise<number> {
  const bodies = Array.from({ length: uploads }, (_, i) => kind === 'files'
    ? { url: `${s.url}/${repo}/d/f${i}.bin`, method: 'PUT', body: Buffer.alloc(1024, i) }
    : { url: `${s.url}/-/api/v1/repositories/${repo}/upload?filename=${wheelFilename({ name: `p${i}`, version: '1.0' })}`, method: 'POST', body: buildWheel({ name: `p${i}`, version: '1.0' }) });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const b = bodies[next++];
      const res = await fetch(b.url, { method: b.method, body: b.body, headers: { authorization: s.adminAuth, 'content-type': 'application/octet-stream' } });
      if (res.status >= 300) throw new Error(`${b.url}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  }));
  return uploads / ((performance.now() - t0) / 1000);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, uploads: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' }, 'no-write': { type: 'boolean' } } });
  const uploads = Number(values.uploads ?? (values.quick ? 60 : 300));
  const rounds = Number(values.rounds ?? (values.quick ? 3 : 7));
  const concurrency = Number(values.concurrency ?? 8);
  const load0 = loadavg()[0];
  const insert = AuditLog.prototype.insert;
  const s = await startServer();
  const rates: Record<string, number[]> = {};
  try {
    let n = 0;
    // A warm-up burst of each kind, not counted: the first requests compile and fill caches.
    for (const kind of ['files', 'pypi'] as Kind[]) {
      const repo = `warm-${kind}`;
      await s.wharf.createRepo({ name: repo, format: kind });
      await burst(s, kind, repo, Math.min(uploads, 50), concurrency);
    }
    for (let round = 0; round < rounds; round++) {
      // Alternating which goes first, so a trend in the machine's load falls on both.
      const order = round % 2 ? ['off', 'on'] : ['on', 'off'];
      for (const kind of ['files', 'pypi'] as Kind[]) {
        for (const mode of order) {
          const repo = `b${n++}`;
          await s.wharf.createRepo({ name: repo, format: kind });
          AuditLog.prototype.insert = mode === 'on' ? insert : async () => {};
          try {
            (rates[`${kind} ${mode}`] ??= []).push(await burst(s, kind, repo, uploads, concurrency));
          } finally {
            AuditLog.prototype.insert = insert;
          }
        }
      }
    }
    const entries = (await s.wharf.store.sql.get("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'upload' AND repo LIKE 'b%'"))!.n;
    if (Number(entries) !== (uploads * rounds * 2)) throw new Error(`expected ${uploads * rounds * 2} upload entries, found ${entries}`);
    // The entry alone: write transactions (one settings row, standing in for an upload's rows)
    // with and without the audit INSERT, interleaved; the difference is what the entry adds.
    const log = new AuditLog(s.wharf.store.sql);
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 ? ['base', 'entry'] : ['entry', 'base']) {
        const t0 = performance.now();
        for (let i = 0; i < 1000; i++) {
          await s.wharf.store.transaction(async () => {
            await s.wharf.store.setSetting('bench', String(i));
            if (mode === 'entry') await log.insert({ actor: 'bench', tokenId: null, tokenName: null, address: '127.0.0.1', repo: 'bench', action: 'upload', target: `f${i}`, detail: { files: [{ path: `f${i}`, sha256: 'a'.repeat(64), size: 1024 }] } });
          });
        }
        (rates[`tx ${mode}`] ??= []).push((performance.now() - t0) / 1000);
      }
    }
  } finally {
    await s.close();
  }
  const engine = process.env.WHARF_TEST_DATABASE === 'postgres' ? 'PostgreSQL' : 'SQLite';
  const rows = (['files', 'pypi'] as Kind[]).map((kind) => {
    const on = median(rates[`${kind} on`]);
    const off = median(rates[`${kind} off`]);
    return [kind === 'files' ? 'Files PUT, 1 KiB' : 'PyPI wheel, API upload', fmt(off, 0), fmt(on, 0), `${(on / off).toFixed(2)}×`];
  });
  const txEmpty = median(rates['tx base']);
  const txInsert = median(rates['tx entry']);
  const body = `\`node bench/run.ts audit\`: bursts of ${uploads} uploads, ${concurrency} at a time, into a fresh hosted
repository per burst, ${rounds} rounds alternating with and without the audit entry's INSERT
(replaced by nothing in the benchmark's process; the product cannot turn it off); ${engine};
medians of uploads per second. Load average at the start: ${load0.toFixed(1)}.

${table(['uploads', 'without the entry, /s', 'with it, /s', 'with / without'], rows)}

The entry alone, 1,000 write transactions each way (one row written, as an upload writes its
rows): ${fmt(txEmpty * 1000, 0)} µs without the audit INSERT, ${fmt(txInsert * 1000, 0)} µs with it, so the entry adds
about ${fmt((txInsert - txEmpty) * 1000, 0)} µs to a transaction an upload commits anyway.
`;
  process.stdout.write(`${body}\nraw: ${JSON.stringify(rates)}\n`);
  if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Audit trail', body);
}
