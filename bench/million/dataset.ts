// The million-file data set: one hosted repository per format, rows written straight into the
// database through the Store (as the formats' ingest records them: packages, versions, files
// with their format's meta, blob rows, dirty scopes), a tiny distinct blob file per file, then
// every index published by the core's own recovery (the publish a server runs at start).
// Going through the HTTP API (or the parsers) would take hours at 1,000,000 files.
//
// Layout for `files` = N (all per-package counts fixed, so N/30 packages per package format):
// - pypi:  N/30 projects × 8 files: 1.0 and 1.1 with sdist + wheel + wheel .metadata, 2.0 with a wheel + .metadata
// - apt:   N/30 packages × 8 .debs: 4 versions × amd64/arm64; versions 1-2 in `bookworm`, 3-4 in `trixie`
// - arch:  N/30 packages × 8 files: two x86_64 versions (package, .sig, .files) and one aarch64 (package, .files)
// - files: the rest (N/5), releases/<xx>/<project>/<version>/ with two tarballs each
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database.ts';
import { Store } from '../../src/db/store.ts';
import { ControlStanza } from '../../src/formats/apt/control.ts';
import { formatPackagesStanza } from '../../src/formats/apt/packages-index.ts';
import { debFilename, poolPath } from '../../src/formats/apt/pool-path.ts';
import { suiteScope } from '../../src/formats/apt/paths.ts';
import { buildDesc, buildFilesEntry } from '../../src/formats/arch/desc.ts';
import { fileListPath, packagePath, scopesOfArch, signaturePath } from '../../src/formats/arch/paths.ts';
import { dirScope } from '../../src/formats/files/paths.ts';
import { parseCoreMetadata } from '../../src/formats/pypi/core-metadata.ts';
import { distPath, metadataPath, projectScope, ROOT_SCOPE } from '../../src/formats/pypi/paths.ts';
import { buildServer } from '../../src/server/app.ts';
import { DEFAULTS } from '../../src/server/config.ts';

export const REPOS = { pypi: 'pypi', apt: 'apt', arch: 'arch', files: 'files' } as const;
export const APT_SUITES = ['bookworm', 'trixie'];
const WORDS = ['async', 'http', 'client', 'parser', 'toolkit', 'image', 'data', 'cloud', 'test', 'crypto', 'queue', 'graph', 'yaml', 'json', 'schema', 'vector', 'stream', 'cache', 'orm', 'web'];
const word = (i: number, k: number) => WORDS[(i * 7 + k * 13) % WORDS.length];

/** Names of the i-th package of each format (shared by the generator and the measured pages). */
export const pypiName = (i: number) => `${word(i, 0)}-${word(i, 1)}-${i}`;
export const debName = (i: number) => `${i % 3 === 0 ? 'lib' : ''}${word(i, 0)}${word(i, 1)}${i}`;
export const archName = (i: number) => `${word(i, 1)}-${word(i, 2)}-${i}`;
export const filesProject = (i: number) => `proj${i}`;
export const filesPrefix = (i: number) => createHash('md5').update(filesProject(i)).digest('hex').slice(0, 2);
export const filesDir = (i: number, v: number) => `releases/${filesPrefix(i)}/${filesProject(i)}/${v}.0/`;

export interface Plan {
  files: number;
  packagesPerFormat: number;
  filesProjects: number;
}

export function planFor(files: number): Plan {
  const packagesPerFormat = Math.max(1, Math.round(files / 30));
  const rest = Math.max(0, files - 24 * packagesPerFormat);
  return { files, packagesPerFormat, filesProjects: Math.max(1, Math.round(rest / 10)) };
}

export interface Built {
  data: string;
  plan: Plan;
  counts: { files: number; packages: number; blobs: number };
  seconds: { rows: number; publish: number };
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');

/** Writes rows and blob files; one transaction per `BATCH` packages. */
class Writer {
  readonly store: Store;
  readonly blobRoot: string;
  files = 0;
  private readonly dirs = new Set<string>();

  constructor(store: Store, blobRoot: string) {
    this.store = store;
    this.blobRoot = blobRoot;
  }

  /** A blob file of `content` and its row; returns its digest and size. */
  async blob(content: string | Uint8Array): Promise<{ sha256: string; size: number; md5: string }> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    const sha = sha256(bytes);
    const dir = join(this.blobRoot, sha.slice(0, 2), sha.slice(2, 4));
    if (!this.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    writeFileSync(join(dir, sha), bytes);
    await this.store.insertBlob(sha, bytes.length);
    return { sha256: sha, size: bytes.length, md5: md5(bytes) };
  }

  async file(repoId: number, versionId: number | null, path: string, filename: string, blob: { sha256: string; size: number }, meta: Record<string, unknown>): Promise<void> {
    await this.store.insertFile({ repoId, versionId, path, filename, sha256: blob.sha256, size: blob.size, meta, uploadedBy: 'admin' });
    this.files++;
  }
}

const BATCH = 500;

async function inBatches(count: number, fn: (i: number) => Promise<void>, store: Store, log: (m: string) => void, what: string): Promise<void> {
  let last = performance.now();
  for (let start = 0; start < count; start += BATCH) {
    await store.transaction(async () => {
      for (let i = start; i < Math.min(count, start + BATCH); i++) await fn(i);
    });
    if (performance.now() - last > 15_000) {
      last = performance.now();
      log(`million: ${what} ${Math.min(count, start + BATCH)}/${count}`);
    }
  }
}

async function writePypi(w: Writer, repoId: number, plan: Plan, log: (m: string) => void): Promise<void> {
  const { store } = w;
  await inBatches(plan.packagesPerFormat, async (i) => {
    const name = pypiName(i);
    const mod = name.replace(/-/g, '_');
    const summary = `A ${word(i, 2)} ${word(i, 3)} library for ${word(i, 4)} work`;
    const id = await store.upsertPackage(repoId, name, name);
    await store.setPackageSummary(id, summary);
    for (const version of ['1.0', '1.1', '2.0']) {
      // The core metadata a wheel carries, parsed as an upload's is (the JSON API reads it back).
      const metadata = [
        'Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, `Summary: ${summary}`, `Author: Author ${i}`, 'License: MIT',
        'Classifier: Programming Language :: Python :: 3', 'Requires-Python: >=3.9', 'Requires-Dist: requests>=2', `Requires-Dist: ${pypiName(i + 1)}>=1.0`,
        'Description-Content-Type: text/markdown', '',
        `# ${name}\n\n${summary}.\n\n- fast\n- small\n\n\`\`\`python\nimport ${mod}\n\`\`\`\n`,
      ].join('\n');
      const { fields: _fields, ...vmeta } = parseCoreMetadata(metadata);
      const v = await store.upsertVersion(id, version, vmeta as unknown as Record<string, unknown>);
      const wheel = `${mod}-${version}-py3-none-any.whl`;
      const mb = await w.blob(metadata);
      const wb = await w.blob(`wheel ${name} ${version}\n`);
      const dist = (packagetype: string, pythonVersion: string, b: { md5: string }, core: string | null) =>
        ({ kind: 'dist', packagetype, pythonVersion, requiresPython: '>=3.9', md5: b.md5, coreMetadataSha256: core, yanked: false, yankedReason: null });
      await w.file(repoId, v, distPath(name, wheel), wheel, wb, dist('bdist_wheel', 'py3', wb, mb.sha256));
      await w.file(repoId, v, metadataPath(distPath(name, wheel)), `${wheel}.metadata`, mb, { kind: 'core-metadata', of: wheel });
      if (version !== '2.0') {
        const sdist = `${mod}-${version}.tar.gz`;
        const sb = await w.blob(`sdist ${name} ${version}\n`);
        await w.file(repoId, v, distPath(name, sdist), sdist, sb, dist('sdist', 'source', sb, null));
      }
    }
    await store.markDirty(repoId, projectScope(name));
  }, store, log, 'pypi projects');
  await store.markDirty(repoId, ROOT_SCOPE);
}

async function writeApt(w: Writer, repoId: number, plan: Plan, log: (m: string) => void): Promise<void> {
  const { store } = w;
  await inBatches(plan.packagesPerFormat, async (i) => {
    const name = debName(i);
    const description = `${word(i, 2)} ${word(i, 3)} tools for ${word(i, 4)}`;
    const id = await store.upsertPackage(repoId, name, name);
    await store.setPackageSummary(id, description);
    for (const [n, version] of ['1.0-1', '1.1-1', '2.0-1', '2.1-1'].entries()) {
      const suite = APT_SUITES[n < 2 ? 0 : 1];
      const v = await store.upsertVersion(id, version, { description, maintainer: 'Wharf Bench <bench@example.org>', source: name });
      for (const arch of ['amd64', 'arm64']) {
        const path = poolPath('main', name, name, version, arch);
        const b = await w.blob(`deb ${path}\n`);
        const sha1 = createHash('sha1').update(`deb ${path}\n`).digest('hex');
        const sha512 = createHash('sha512').update(`deb ${path}\n`).digest('hex');
        const control = new ControlStanza([
          ['Package', name], ['Version', version], ['Architecture', arch], ['Maintainer', 'Wharf Bench <bench@example.org>'],
          ['Installed-Size', String(100 + (i % 900))], ['Depends', `libc6 (>= 2.36), ${debName(i + 1)} (>= 1.0)`], ['Section', 'utils'], ['Priority', 'optional'],
          ['Homepage', `https://example.org/${name}`], ['Description', `${description}\n ${name} is a generated package of the million-file benchmark.`],
        ]);
        const stanza = formatPackagesStanza({ control, filename: path, size: b.size, md5: b.md5, sha1, sha256: b.sha256, sha512 });
        await w.file(repoId, v, path, debFilename(name, version, arch), b, {
          kind: 'deb', package: name, version, architecture: arch, source: name, component: 'main', suites: [suite], section: 'utils',
          md5: b.md5, sha1, sha512, stanza, contents: [`usr/bin/${name}`, `usr/share/doc/${name}/copyright`],
        });
      }
    }
  }, store, log, 'apt packages');
  for (const s of APT_SUITES) await store.markDirty(repoId, suiteScope(s));
}

async function writeArch(w: Writer, repo: { id: number; createdAt: string }, plan: Plan, log: (m: string) => void): Promise<void> {
  const { store } = w;
  const repoId = repo.id;
  await inBatches(plan.packagesPerFormat, async (i) => {
    const name = archName(i);
    const pkgdesc = `${word(i, 3)} ${word(i, 4)} utilities`;
    const id = await store.upsertPackage(repoId, name, name);
    for (const [version, arch, signed] of [['1.0-1', 'x86_64', true], ['1.1-1', 'x86_64', true], ['1.1-1', 'aarch64', false]] as const) {
      const info = {
        pkgname: name, pkgbase: name, pkgver: version, pkgdesc, url: `https://example.org/${name}`, builddate: 1_700_000_000 + i, packager: 'Wharf Bench <bench@example.org>',
        size: 4096 + i, arch, licenses: ['MIT'], groups: [], depends: ['glibc', archName(i + 1)], optdepends: [], makedepends: [], checkdepends: [], provides: [], conflicts: [], replaces: [], backup: [], xdata: ['pkgtype=pkg'], other: {},
      };
      const v = await store.upsertVersion(id, version, {
        description: pkgdesc, url: info.url, pkgbase: name, licenses: info.licenses, depends: info.depends, provides: [], builddate: info.builddate, packager: info.packager,
      });
      const filename = `${name}-${version}-${arch}.pkg.tar.zst`;
      const path = packagePath(arch, filename);
      const pb = await w.blob(`pkg ${path}\n`);
      let pgpsig: string | undefined;
      let sig: { sha256: string; size: number } | undefined;
      if (signed) {
        const sigBytes = Buffer.from(`sig ${path}\n`);
        sig = await w.blob(sigBytes);
        pgpsig = sigBytes.toString('base64');
      }
      const desc = buildDesc(info, { filename, csize: pb.size, md5: pb.md5, sha256: pb.sha256, pgpsig });
      await w.file(repoId, v, path, filename, pb, { kind: 'package', pkgname: name, pkgver: version, arch, compression: 'zst', held: false, desc });
      const list = buildFilesEntry([`usr/`, `usr/bin/`, `usr/bin/${name}`, `usr/share/licenses/${name}/LICENSE`]);
      const lb = await w.blob(`${list}\n# ${path}\n`);
      await w.file(repoId, v, fileListPath(path), `${filename}.files`, lb, { kind: 'file-list', pkgname: name, of: path, count: 4 });
      if (sig) await w.file(repoId, v, signaturePath(path), `${filename}.sig`, sig, { kind: 'signature', pkgname: name, of: path, source: 'upload', signer: null });
    }
    await store.setPackageSummary(id, pkgdesc);
    await store.updatePackageMeta(id, { description: pkgdesc });
  }, store, log, 'arch packages');
  // What rememberArchitecture records on a first upload for an architecture.
  await store.setSetting(`arch:repo:${repoId}:${repo.createdAt}:architectures`, JSON.stringify(['aarch64', 'x86_64']));
  for (const arch of ['aarch64', 'x86_64']) for (const s of scopesOfArch(arch)) await store.markDirty(repoId, s);
}

async function writeFiles(w: Writer, repoId: number, plan: Plan, log: (m: string) => void): Promise<void> {
  const { store } = w;
  const dirs = new Set<string>(['', 'releases/']);
  await inBatches(plan.filesProjects, async (i) => {
    dirs.add(`releases/${filesPrefix(i)}/`);
    dirs.add(`releases/${filesPrefix(i)}/${filesProject(i)}/`);
    for (let v = 0; v < 5; v++) {
      const dir = filesDir(i, v);
      dirs.add(dir);
      for (const name of [`${filesProject(i)}-${v}.0.tar.gz`, `${filesProject(i)}-${v}.0-linux-x86_64.tar.gz`]) {
        const b = await w.blob(`tarball ${dir}${name}\n`);
        await w.file(repoId, null, dir + name, name, b, { md5: b.md5 });
      }
    }
  }, store, log, 'files projects');
  await store.transaction(async () => {
    for (const d of dirs) await store.markDirty(repoId, dirScope(d));
  });
}

/**
 * The data directory for `files` files, built once and kept under `workDir` (a marker file
 * says it is complete). Returns what it holds.
 */
export async function ensureMillion(workDir: string, files: number, adminPassword: string, log: (m: string) => void): Promise<Built> {
  const plan = planFor(files);
  const data = join(workDir, `million-${files}`);
  const marker = join(data, 'bench-complete.json');
  if (existsSync(marker)) return { ...(JSON.parse(await readFile(marker, 'utf8')) as Built), data };
  await rm(data, { recursive: true, force: true });
  await mkdir(data, { recursive: true });
  // Created by the server itself (admin, settings, repositories), then closed for the bulk write.
  {
    const { app, wharf } = await buildServer({ ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword, repositories: [] }, { logger: false });
    for (const format of Object.keys(REPOS) as (keyof typeof REPOS)[]) {
      if (!wharf.repo(REPOS[format])) await wharf.createRepo({ name: REPOS[format], format, kind: 'hosted', public: true });
    }
    await app.close();
  }
  const t0 = performance.now();
  const db = await openDatabase(join(data, 'wharf.db'));
  const store = new Store(db);
  const w = new Writer(store, join(data, 'blobs'));
  const repo = async (name: string) => (await store.getRepoByName(name))!;
  await writePypi(w, (await repo(REPOS.pypi)).id, plan, log);
  await writeApt(w, (await repo(REPOS.apt)).id, plan, log);
  await writeArch(w, await repo(REPOS.arch), plan, log);
  await writeFiles(w, (await repo(REPOS.files)).id, plan, log);
  const packages = Number((await db.get('SELECT COUNT(*) AS n FROM packages'))!.n);
  const blobs = Number((await db.get('SELECT COUNT(*) AS n FROM blobs'))!.n);
  await db.close();
  const rows = (performance.now() - t0) / 1000;
  log(`million: ${w.files} files, ${packages} packages written in ${rows.toFixed(0)} s; publishing every index`);
  // Every index, as a server publishes what a crash left dirty at start.
  const t1 = performance.now();
  {
    const { app, wharf } = await buildServer({ ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword, repositories: [] }, { logger: { level: 'error' } });
    if ((await wharf.store.listDirty()).length) throw new Error('indexes left dirty after the publish');
    await app.close();
  }
  const publish = (performance.now() - t1) / 1000;
  log(`million: published in ${publish.toFixed(0)} s`);
  const built: Built = { data, plan, counts: { files: w.files, packages, blobs }, seconds: { rows, publish } };
  await writeFile(marker, JSON.stringify(built));
  return built;
}
