// Builds the benchmark repositories in-process with the core (no HTTP, no twine): the same
// ingest path uploads take, so the database, blobs and published pages are what a real server
// would hold. Cached under bench/.work/ by the dataset's description, so reruns start at once.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildServer } from '../../src/server/app.ts';
import { DEFAULTS } from '../../src/server/config.ts';
import type { StagedBlob } from '../../src/storage/blob-store.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { buildWheel, wheelFilename } from '../../test/helpers/python-dists.ts';

/** The project whose page is measured: present, with the same files, in every repository. */
export const TARGET_PROJECT = 'target-project';

export interface RepoPlan {
  name: string;
  /** Files of the measured project. */
  targetFiles: number;
  fillerProjects: number;
  filesPerFiller: number;
}

/** Repositories with about 1k, 10k and 100k files; the largest also has 10,000 projects. */
export const FULL_PLANS: RepoPlan[] = [
  { name: 'files-1k', targetFiles: 200, fillerProjects: 80, filesPerFiller: 10 },
  { name: 'files-10k', targetFiles: 200, fillerProjects: 980, filesPerFiller: 10 },
  { name: 'files-100k', targetFiles: 200, fillerProjects: 9_999, filesPerFiller: 10 },
];

/** A tenth of the sizes, for trying the benchmark out. */
export const QUICK_PLANS: RepoPlan[] = [
  { name: 'files-100', targetFiles: 50, fillerProjects: 5, filesPerFiller: 10 },
  { name: 'files-1k', targetFiles: 50, fillerProjects: 95, filesPerFiller: 10 },
  { name: 'files-10k', targetFiles: 50, fillerProjects: 999, filesPerFiller: 10 },
];

export const totalFiles = (p: RepoPlan) => p.targetFiles + p.fillerProjects * p.filesPerFiller;
export const totalProjects = (p: RepoPlan) => 1 + p.fillerProjects;

export interface Dataset {
  data: string;
  repos: RepoPlan[];
  /** Seconds spent building it (0 when it came from the cache). */
  buildSeconds: number;
  ingested: number;
}

async function pool<T>(items: Iterable<T>, concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  const worker = async () => {
    for (let n = it.next(); !n.done; n = it.next()) await fn(n.value);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function* uploadsOf(plan: RepoPlan): Generator<{ name: string; version: string }> {
  for (let i = 0; i < plan.targetFiles; i++) yield { name: TARGET_PROJECT, version: `1.0.${i}` };
  for (let p = 0; p < plan.fillerProjects; p++) {
    const name = `filler-${String(p).padStart(5, '0')}`;
    for (let v = 0; v < plan.filesPerFiller; v++) yield { name, version: `2.${v}` };
  }
}

/**
 * The data directory holding `repos`, built once. Blob commits skip their fsync while
 * building (a crash would only cost a rebuild); serving reads do not depend on it.
 */
export async function ensureDataset(workDir: string, repos: RepoPlan[], adminPassword: string, log: (m: string) => void): Promise<Dataset> {
  const key = repos.map((r) => `${r.name}-${r.targetFiles}-${r.fillerProjects}x${r.filesPerFiller}`).join('_');
  const data = join(workDir, `pypi-data-${key}`);
  const marker = join(data, 'bench-complete.json');
  if (existsSync(marker)) {
    const m = JSON.parse(await readFile(marker, 'utf8')) as { buildSeconds: number };
    log(`dataset: cached at ${data} (built in ${Math.round(m.buildSeconds)} s)`);
    return { data, repos, buildSeconds: 0, ingested: 0 };
  }
  await rm(data, { recursive: true, force: true });
  await mkdir(data, { recursive: true });
  const { app, wharf } = await buildServer({ ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword, repositories: [] }, { logger: false });
  const blobs = wharf.blobs as FsBlobStore;
  const { rename, mkdir: mkdirp } = await import('node:fs/promises');
  blobs.commit = async (staged: StagedBlob) => {
    const dest = blobs.pathOf(staged.sha256);
    await mkdirp(join(dest, '..'), { recursive: true });
    await rename(staged.path, dest);
  };
  const t0 = performance.now();
  let ingested = 0;
  for (const plan of repos) {
    if (!wharf.repo(plan.name)) await wharf.createRepo({ name: plan.name, format: 'pypi', kind: 'hosted', public: true });
    const repo = wharf.requireRepo(plan.name);
    // The root page lists every project and is rebuilt whenever a project is added: over
    // 10,000 new projects that is quadratic. It is a function of the database alone, so the
    // build publishes it once at the end instead (ingest is measured separately, by twine).
    const plugin = wharf.pluginFor(repo);
    const packageSetScopes = plugin.scopesForPackageSet ?? [];
    plugin.scopesForPackageSet = [];
    const total = totalFiles(plan);
    let done = 0;
    let lastReport = performance.now();
    // Many uploads in flight let the publisher coalesce rebuilds of the root page.
    await pool(uploadsOf(plan), 64, async ({ name, version }) => {
      const bytes = buildWheel({ name, version, summary: `${name} for the benchmark` });
      const staged = await wharf.blobs.stageBuffer(bytes);
      await wharf.packages.ingest(repo, { staged, filename: wheelFilename({ name, version }), fields: {} });
      done++;
      ingested++;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        log(`dataset: ${plan.name} ${done}/${total} files, ${Math.round(ingested / ((performance.now() - t0) / 1000))} files/s since the start`);
      }
    });
    plugin.scopesForPackageSet = packageSetScopes;
    await wharf.publish(repo, packageSetScopes);
    await wharf.publisher.settle(repo);
    log(`dataset: ${plan.name} done (${total} files, ${totalProjects(plan)} projects)`);
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  await app.close();
  await writeFile(marker, JSON.stringify({ repos, buildSeconds, ingested, builtAt: new Date().toISOString() }));
  return { data, repos, buildSeconds, ingested };
}
