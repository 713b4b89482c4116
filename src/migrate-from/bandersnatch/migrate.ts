// bandersnatch -> Wharf: the mirror's web/ tree becomes a PyPI proxy repository whose cache
// holds its pages and files, ready to serve with the upstream out of reach. Each file is
// checked against the sha256 its page lists before it is offered; Wharf checks it again as it
// caches it. Wharf must run on this machine (it fetches from a port the migration opens on
// 127.0.0.1 for the run).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WharfApiError, type WharfClient } from '../../client/client.ts';
import { ProgressBar } from '../../cli/progress.ts';
import { MigrationReport } from '../report.ts';
import { readMirror, sha256File } from './mirror-tree.ts';
import { serveTree } from './serve-tree.ts';

export interface BandersnatchOptions {
  mirrorDir: string;
  repo: string;
  /** Where the proxy reads from after the move (its pages refresh there when reachable). */
  upstream: string;
  offline: boolean;
  private: boolean;
  jobs: number;
}

export async function migrateBandersnatch(client: WharfClient, o: BandersnatchOptions): Promise<MigrationReport> {
  const report = new MigrationReport();
  const web = existsSync(join(o.mirrorDir, 'web', 'simple')) ? join(o.mirrorDir, 'web') : o.mirrorDir;
  const projects = await readMirror(web);

  let existing: Awaited<ReturnType<WharfClient['getRepo']>> | null = null;
  try {
    existing = await client.getRepo(o.repo);
  } catch (err) {
    if (!(err instanceof WharfApiError) || err.status !== 404) throw err;
  }
  if (existing && (existing.format !== 'pypi' || existing.kind !== 'proxy')) throw new Error(`repository ${o.repo} exists and is a ${existing.kind} ${existing.format} repository, not a PyPI proxy: choose another with --repo`);
  const cached = new Map(existing ? (await client.listFiles(o.repo, 'packages/')).map((f) => [f.path, f.sha256]) : []);

  // Check every file against its page; what is already cached (a rerun) is left alone.
  const serve = new Map<string, string>();
  const todo: { project: string; filename: string; name: string; sha256: string }[] = [];
  const bar = new ProgressBar('checking mirror files');
  const all = projects.flatMap((p) => p.files.map((f) => ({ p, f })));
  let checked = 0;
  for (const { p, f } of all) {
    bar.update(++checked, all.length);
    const name = `${p.name}/${f.filename}`;
    if (!f.localPath) {
      report.skip('file', name, `its page points outside the mirror (${f.url})`);
      continue;
    }
    if (!existsSync(f.localPath)) {
      report.skip('file', name, `listed on the page but missing from ${relative(o.mirrorDir, f.localPath)}`);
      continue;
    }
    if (!f.sha256) {
      report.skip('file', name, 'its page gives no sha256 to check it against');
      continue;
    }
    const got = await sha256File(f.localPath);
    if (got !== f.sha256) {
      report.skip('file', name, `sha256 ${got} does not match the page's ${f.sha256}`);
      continue;
    }
    if (cached.get(`packages/${p.name}/${f.filename}`) === f.sha256) {
      report.same('file', name);
      continue;
    }
    serve.set(`/${relative(web, f.localPath).split('\\').join('/')}`, f.localPath);
    todo.push({ project: p.name, filename: f.filename, name, sha256: f.sha256 });
  }
  bar.done();

  const finalOptions = { upstream: o.upstream, offline: o.offline };
  if (!existing) {
    // Created offline: it asks nothing of the upstream until the cache is filled.
    await client.createRepo({ name: o.repo, format: 'pypi', kind: 'proxy', public: !o.private, options: { upstream: o.upstream, offline: true } });
    report.move('repository', o.repo);
  } else report.same('repository', o.repo);

  if (todo.length) {
    const tree = await serveTree(web, projects, serve);
    try {
      await client.updateRepo(o.repo, { options: { upstream: `${tree.url}/simple/`, offline: false, metadataTtl: 0 } });
      const pagesDone = new Set<string>();
      const fetched = new Map<string, { name: string; sha256: string }>();
      let next = 0;
      let done = 0;
      const fetchBar = new ProgressBar(`files to ${o.repo}`);
      const worker = async () => {
        while (next < todo.length) {
          const t = todo[next++];
          try {
            if (!pagesDone.has(t.project)) {
              pagesDone.add(t.project);
              const page = await client.getRaw(`/${o.repo}/simple/${t.project}/`, { accept: 'application/vnd.pypi.simple.v1+json' });
              await page.arrayBuffer();
              if (!page.ok) throw new Error(`its page: ${page.status}`);
            }
            const res = await client.getRaw(`/${o.repo}/packages/${t.project}/${encodeURIComponent(t.filename)}`);
            const body = await res.arrayBuffer();
            if (res.ok) fetched.set(`packages/${t.project}/${t.filename}`, t);
            else report.skip('file', t.name, `Wharf refused it: ${res.status} ${Buffer.from(body).toString('utf8').slice(0, 200)}`);
          } catch (err) {
            report.skip('file', t.name, (err as Error).message);
          }
          fetchBar.update(++done, todo.length);
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.jobs, todo.length) }, worker));
      fetchBar.done();
      await awaitCached(client, o.repo, fetched, report);
    } finally {
      // An existing proxy gets its own settings back (only its cache was filled); a new one, --upstream.
      const restored = existing
        ? { upstream: existing.options.upstream, offline: existing.options.offline ?? false, metadataTtl: existing.options.metadataTtl ?? 600 }
        : { ...finalOptions, metadataTtl: 600 };
      await client.updateRepo(o.repo, { options: restored });
      await tree.close();
    }
  } else if (!existing) await client.updateRepo(o.repo, { options: finalOptions });
  return report;
}

/** How long a fetched file may take to be recorded in the cache after its download ended. */
const CACHE_WAIT_MS = 120_000;

/**
 * The proxy answers a file while it stores it, and records it once the copy is complete: a
 * file counts as moved when the repository lists it (with the page's sha256), not when its
 * download ends. Waited for before the upstream is switched away from this run's port.
 */
async function awaitCached(client: WharfClient, repo: string, fetched: Map<string, { name: string; sha256: string }>, report: MigrationReport): Promise<void> {
  const until = Date.now() + CACHE_WAIT_MS;
  for (let delay = 50; fetched.size; delay = Math.min(delay * 2, 2000)) {
    const listed = new Map((await client.listFiles(repo, 'packages/')).map((f) => [f.path, f.sha256]));
    for (const [path, t] of fetched) {
      const sha = listed.get(path);
      if (sha === undefined) continue;
      if (sha === t.sha256) report.move('file', t.name);
      else report.skip('file', t.name, `cached with sha256 ${sha}, not the page's ${t.sha256}`);
      fetched.delete(path);
    }
    if (!fetched.size) break;
    if (Date.now() > until) {
      for (const t of fetched.values()) report.skip('file', t.name, 'fetched but not in the cache after 2 minutes: run the migration again');
      break;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
