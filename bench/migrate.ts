// `wharf migrate-from reprepro` of a generated reprepro repository (10,000 .debs by default,
// one suite, one component, signed): from the start of the command until it returns (every
// .deb checked against its Packages SHA256, uploaded in batches and published), then the same
// migration again (a rerun: nothing to send). The reference in the same run, interleaved: a
// plain `wharf import` of the same pool/ files into a fresh server (the path without reading
// or checking the source's indexes). The tree is made by reprepro itself from .debs generated
// in-process (as bench/bulk.ts does) and cached under bench/.work/migrate-<N>/.
//   npm run bench -- migrate [--debs N] [--rounds N] [--jobs N] [--no-write]
// Writes the `## Migration from reprepro` section of docs/benchmarks.md (not with --no-write).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyDeb } from './apt-add.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { NODE, ROOT, startWharf } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, ratio } from './lib/stats.ts';

const ADMIN_PASSWORD = 'bench-migrate-pw';
const WORK = join(import.meta.dirname, '.work');
const log = (m: string) => process.stderr.write(`[migrate] ${m}\n`);

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}... failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${(out + err).slice(-2000)}`))));
  });
}

/** A reprepro base directory holding `count` .debs in stable/main (cached). */
async function reprepoTree(count: number): Promise<string> {
  const dir = join(WORK, `migrate-${count}`);
  const base = join(dir, 'repo');
  if (existsSync(join(dir, 'complete'))) return base;
  await rm(dir, { recursive: true, force: true });
  const debs = join(dir, 'debs');
  await mkdir(debs, { recursive: true });
  const t = performance.now();
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(5, '0');
    const f = join(debs, `mig-${n}_1.0-1_amd64.deb`);
    await writeFile(f, await tinyDeb(`mig-${n}`, '1.0-1'));
    files.push(f);
  }
  const gnupg = join(dir, 'gnupg');
  await mkdir(gnupg, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupg };
  sh('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Bench <bench@example.com>', 'ed25519', 'sign', 'never'], env);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(sh('gpg', ['--batch', '--with-colons', '--list-secret-keys'], env))![1];
  await mkdir(join(base, 'conf'), { recursive: true });
  await writeFile(join(base, 'conf/distributions'), `Origin: bench\nLabel: bench\nSuite: stable\nCodename: stable\nArchitectures: amd64\nComponents: main\nSignWith: ${fpr}\n`);
  await writeFile(join(base, 'conf/options'), 'silent\n');
  for (let i = 0; i < files.length; i += 2000) sh('reprepro', ['-b', base, 'includedeb', 'stable', ...files.slice(i, i + 2000)], env);
  await rm(debs, { recursive: true, force: true });
  await writeFile(join(dir, 'complete'), '');
  log(`generated a reprepro tree of ${count} .debs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return base;
}

const cliEnv = { ...process.env, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD, WHARF_TOKEN: '' };
const cli = (url: string, ...args: string[]) => exec(NODE, [join(ROOT, 'src/cli/main.ts'), '--url', url, ...args], cliEnv);

/** One round on a fresh server: the migration, then its rerun; seconds each. */
async function migrateRound(base: string, count: number, jobs: number): Promise<{ first: number; rerun: number }> {
  const data = await mkdtemp(join(tmpdir(), 'wharf-bench-migrate-'));
  const server = await startWharf({ data, adminPassword: ADMIN_PASSWORD });
  try {
    let t0 = performance.now();
    const out = JSON.parse(await cli(server.url, '--json', 'migrate-from', 'reprepro', base, '--repo', 'moved', '--jobs', String(jobs))) as { moved: { kind: string }[]; skipped: unknown[] };
    const first = (performance.now() - t0) / 1000;
    const moved = out.moved.filter((m) => m.kind === 'package').length;
    if (moved !== count || out.skipped.length) throw new Error(`moved ${moved} of ${count}, ${out.skipped.length} not moved`);
    t0 = performance.now();
    const again = JSON.parse(await cli(server.url, '--json', 'migrate-from', 'reprepro', base, '--repo', 'moved', '--jobs', String(jobs))) as { moved: unknown[] };
    const rerun = (performance.now() - t0) / 1000;
    if (again.moved.length) throw new Error(`the rerun moved ${again.moved.length} items`);
    return { first, rerun };
  } finally {
    await server.stop();
    await rm(data, { recursive: true, force: true });
  }
}

/** The reference: `wharf import` of the same pool files into a fresh server; seconds. */
async function importRound(base: string, count: number, jobs: number): Promise<number> {
  const data = await mkdtemp(join(tmpdir(), 'wharf-bench-migrate-ref-'));
  const server = await startWharf({ data, adminPassword: ADMIN_PASSWORD });
  try {
    const t0 = performance.now();
    await cli(server.url, 'repo', 'create', 'plain', '--format', 'apt');
    const out = await cli(server.url, 'import', 'plain', join(base, 'pool'), '--jobs', String(jobs), '--field', 'suite=stable', '--field', 'component=main');
    if (!new RegExp(`imported ${count} new`).test(out)) throw new Error(`wharf import: ${out}`);
    return (performance.now() - t0) / 1000;
  } finally {
    await server.stop();
    await rm(data, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { debs: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' }, jobs: { type: 'string', default: '2' }, 'no-write': { type: 'boolean', default: false } } });
  const count = Number(values.debs);
  const rounds = Number(values.rounds);
  const jobs = Number(values.jobs);
  const load0 = loadavg()[0].toFixed(2);
  const base = await reprepoTree(count);
  const first: number[] = [];
  const rerun: number[] = [];
  const ref: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const m = await migrateRound(base, count, jobs);
    first.push(m.first);
    rerun.push(m.rerun);
    ref.push(await importRound(base, count, jobs));
    log(`round ${r + 1}: migrate ${m.first.toFixed(1)} s, rerun ${m.rerun.toFixed(1)} s, wharf import ${ref[ref.length - 1].toFixed(1)} s`);
  }
  const load = `${load0} / ${loadavg()[0].toFixed(2)}`;
  const body = [
    `\`wharf migrate-from reprepro\` of a reprepro repository of ${count.toLocaleString('en')} .debs (one suite, one component, signed; made by reprepro from generated .debs), into a fresh server over HTTP: from the start of the command until it returns (every .deb checked against the Packages SHA256, sent in batches with \`--jobs ${jobs}\` and published), and a rerun of the same migration (nothing to send). Reference in the same run, interleaved: \`wharf import\` of the same pool/ files into a fresh server. Median of ${rounds}.`,
    '',
    table(['run', 'time', 'packages/s', 'ratio (import / migrate)'], [
      ['`migrate-from reprepro`', `${fmt(median(first), 1)} s`, fmt(count / median(first), 0), ratio(median(ref), median(first))],
      ['the same migration again', `${fmt(median(rerun), 1)} s`, '-', '-'],
      ['`wharf import` of pool/ (reference)', `${fmt(median(ref), 1)} s`, fmt(count / median(ref), 0), '1.00×'],
    ]),
    '',
    `${machineLine(machineInfo())} Load average (1 min) at the start and the end: ${load}. Run: \`npm run bench -- migrate [--debs N] [--rounds N]\`.`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## Migration from reprepro', body);
}

if (import.meta.main) await main(process.argv.slice(2));
