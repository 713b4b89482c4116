// The APT benchmark: add one .deb to a suite of 10,000 packages until the new signed indexes
// are served, against reprepro doing `includedeb` into a 10,000-package repository with
// SignWith, interleaved run by run. Results go to the `## APT` section of docs/benchmarks.md.
// Run by hand: node bench/apt-add.ts [--packages 10000] [--runs 10] [--no-write]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { buildServer } from '../src/server/app.ts';
import { DEFAULTS } from '../src/server/config.ts';
import { suiteScope } from '../src/formats/apt/paths.ts';
import { machineInfo, machineLine } from './lib/machine.ts';
import { ROOT, startWharf } from './lib/processes.ts';
import { table, writeSection } from './lib/report.ts';
import { fmt, median, ratio } from './lib/stats.ts';

const ADMIN_PASSWORD = 'bench-admin-pw';

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: './', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) });
  for (const [name, content] of Object.entries(files)) pack.entry({ name: `./${name}`, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }, content);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

function ar(members: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const m of members) {
    parts.push(Buffer.from(`${m.name}/`.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(m.data.length).padEnd(10) + '`\n', 'latin1'), m.data);
    if (m.data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** A tiny valid .deb built in-process (dpkg-deb 10,000 times would dominate the set-up). */
export async function tinyDeb(name: string, version: string): Promise<Buffer> {
  const control = `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: Bench <bench@example.com>\nInstalled-Size: 1\nSection: misc\nPriority: optional\nDescription: benchmark package ${name}\n A tiny package for the APT benchmark.\n`;
  return ar([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'control.tar.gz', data: await tarGz({ control }) },
    { name: 'data.tar.gz', data: await tarGz({ [`usr/share/doc/${name}/README`]: `${name} ${version}\n` }) },
  ]);
}

const pkgName = (i: number) => `bench-${createHash('sha1').update(String(i)).digest('hex').slice(0, 6)}-${i}`;

/** Import the packages straight through the plugin and store (one publish), as a restore would. */
async function seedWharf(data: string, debs: { name: string; bytes: Buffer }[]): Promise<void> {
  const { app, wharf } = await buildServer({ ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword: ADMIN_PASSWORD }, { logger: false });
  const repo = await wharf.createRepo({ name: 'bench', format: 'apt' });
  const plugin = wharf.pluginFor(repo);
  const ctx = wharf.contextFor(repo);
  for (const d of debs) {
    const staged = await wharf.blobs.stageBuffer(d.bytes);
    const plan = await plugin.ingest(ctx, { staged, filename: `${d.name}.deb`, fields: { suite: ['stable'], component: ['main'] } });
    for (const f of plan.files) await wharf.blobs.commit(f.blob);
    await wharf.store.transaction(async () => {
      const p = plan.package!;
      const versionId = await wharf.store.upsertVersion(await wharf.store.upsertPackage(repo.id, p.name, p.displayName), p.version, p.versionMeta);
      for (const f of plan.files) {
        await wharf.store.insertBlob(f.blob.sha256, f.blob.size);
        await wharf.store.insertFile({
 repoId: repo.id, versionId, path: f.path, filename: f.filename, sha256: f.blob.sha256, size: f.blob.size, meta: f.meta });
      }
    });
  }
  await wharf.publish(repo, [suiteScope('stable')]);
  await app.close();
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}... failed: ${r.stderr}`);
  return r.stdout;
}

async function timeWharfAdd(url: string, deb: Buffer, auth: string): Promise<number> {
  const inRelease = `${url}/bench/dists/stable/InRelease`;
  const before = (await fetch(inRelease)).headers.get('etag');
  const t0 = performance.now();
  const res = await fetch(`${url}/bench/upload/stable/main/`, { method: 'PUT', body: deb, headers: { authorization: auth } });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
  for (;;) {
    const r = await fetch(inRelease);
    await r.arrayBuffer();
    if (r.headers.get('etag') !== before) break;
  }
  return performance.now() - t0;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { packages: { type: 'string', default: '10000' }, runs: { type: 'string', default: '10' }, 'no-write': { type: 'boolean', default: false } } });
  const count = Number(values.packages);
  const runs = Number(values.runs);
  const work = await mkdtemp(join(tmpdir(), 'wharf-bench-apt-'));
  try {
    const debDir = join(work, 'debs');
    await mkdir(debDir);
    const debs: { name: string; bytes: Buffer }[] = [];
    for (let i = 0; i < count; i++) {
      const name = pkgName(i);
      const bytes = await tinyDeb(name, '1.0-1');
      debs.push({ name, bytes });
      await writeFile(join(debDir, `${name}_1.0-1_amd64.deb`), bytes);
    }
    // New packages land at random places in the sorted Packages file, as real names would.
    const extraNames = Array.from({ length: runs + 1 }, (_, i) => pkgName(count + i));
    const extra = await Promise.all(extraNames.map((n) => tinyDeb(n, '2.0-1')));

    // Wharf: seeded in-process, then served by its own process.
    const data = join(work, 'wharf');
    let t = performance.now();
    await seedWharf(data, debs);
    const wharfSeedS = (performance.now() - t) / 1000;
    const server = await startWharf({ data, adminPassword: ADMIN_PASSWORD });

    // reprepro with an Ed25519 key in a private GNUPGHOME.
    const gnupg = join(work, 'gnupg');
    await mkdir(gnupg, { mode: 0o700 });
    const genv = { ...process.env, GNUPGHOME: gnupg };
    sh('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Bench <bench@example.com>', 'ed25519', 'sign', 'never'], genv);
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(sh('gpg', ['--batch', '--with-colons', '--list-secret-keys'], genv))![1];
    const rr = join(work, 'reprepro');
    await mkdir(join(rr, 'conf'), { recursive: true });
    await writeFile(join(rr, 'conf/distributions'), `Origin: bench\nLabel: bench\nSuite: stable\nCodename: stable\nArchitectures: amd64\nComponents: main\nSignWith: ${fpr}\n`);
    await writeFile(join(rr, 'conf/options'), 'silent\n');
    t = performance.now();
    const files = (await readdir(debDir)).map((f) => join(debDir, f));
    for (let i = 0; i < files.length; i += 2000) sh('reprepro', ['-b', rr, 'includedeb', 'stable', ...files.slice(i, i + 2000)], genv);
    const repreproSeedS = (performance.now() - t) / 1000;

    const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
    // spawnSync blocked the event loop while reprepro ran: a pooled keep-alive connection may
    // have been closed by the server meanwhile. Let the client find out before timing.
    for (let i = 0; i < 2; i++) await fetch(`${server.url}/-/health`).then((r) => r.arrayBuffer()).catch(() => {});
    // One warm-up add each (first-request costs, page cache), not counted.
    await timeWharfAdd(server.url, extra[runs], auth);
    const wharfMs: number[] = [];
    const repreproMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      wharfMs.push(await timeWharfAdd(server.url, extra[i], auth));
      const f = join(work, `${extraNames[i]}_2.0-1_amd64.deb`);
      await writeFile(f, extra[i]);
      const t0 = performance.now();
      sh('reprepro', ['-b', rr, 'includedeb', 'stable', f], genv);
      repreproMs.push(performance.now() - t0);
    }
    await server.stop();
    const packagesBytes = Number(execFileSync('sh', ['-c', `wc -c < ${rr}/dists/stable/main/binary-amd64/Packages`], { encoding: 'utf8' }).trim());

    const m = machineInfo();
    const wm = median(wharfMs);
    const rm_ = median(repreproMs);
    const body = [
      `Adding one .deb to a suite of ${count.toLocaleString('en')} packages until the new signed indexes are served (median of ${runs} runs, interleaved). ` +
        'Wharf: from the start of the PUT until `InRelease` answers with a new ETag (Packages, .gz, .xz, per-arch Release, Release, InRelease and Release.gpg rebuilt and signed). ' +
        'reprepro: `reprepro includedeb stable x.deb` with `SignWith` (Ed25519, gpg), which rewrites Packages, Packages.gz, Release, InRelease and Release.gpg.',
      '',
      table(['tool', 'median ms', 'min ms', 'max ms'], [
        ['Wharf', fmt(wm, 1), fmt(Math.min(...wharfMs), 1), fmt(Math.max(...wharfMs), 1)],
        ['reprepro', fmt(rm_, 1), fmt(Math.min(...repreproMs), 1), fmt(Math.max(...repreproMs), 1)],
      ]),
      '',
      `Wharf is ${ratio(rm_, wm)} faster than reprepro here. Set-up: Wharf imported the ${count.toLocaleString('en')} packages in ${fmt(wharfSeedS, 1)} s (in-process, one publish); reprepro in ${fmt(repreproSeedS, 1)} s. Uncompressed Packages: ${(packagesBytes / 1048576).toFixed(1)} MiB.`,
      '',
      machineLine(m),
      '',
      'Why Wharf is fast here: the Packages stanza of each .deb is rendered once at upload and kept in the database; a suite rebuild concatenates them, Packages.gz is a concatenation of per-chunk gzip members and Packages.xz one xz stream of per-chunk blocks, the chunks cut at content-defined stanza boundaries, so only the chunk that changed is compressed again; hash states are kept per chunk, so hashing starts at the first changed chunk. Release, InRelease and Release.gpg are signed with Ed25519/SHA-512 in-process. Server, client and reprepro share the 2 CPUs of the machine; the ratio is the figure to quote. Packages.xz chunks are compressed with xz -1. Run: `node bench/apt-add.ts [--packages N] [--runs N]`.',
    ].join('\n');
    console.log(body);
    console.log(`raw wharf: ${wharfMs.map((x) => x.toFixed(1)).join(' ')}\nraw reprepro: ${repreproMs.map((x) => x.toFixed(1)).join(' ')}`);
    if (!values['no-write']) writeSection(join(ROOT, 'docs/benchmarks.md'), '## APT', body);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await main(process.argv.slice(2));
