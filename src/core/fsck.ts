// `wharf fsck`: check a data directory against itself, offline (the caller holds the data
// directory's lock, so nothing changes underneath): every file row's blob (present, size,
// sha256 recomputed), every published index scope against a fresh build of it, scopes left
// dirty, temp files, orphaned blobs, and the totals and search index the pages read. `repair` republishes what differs, removes temp
// files and orphans past the grace period, and names what it cannot fix.
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { IndexDocument } from './format-plugin.ts';
import type { Repository } from './model.ts';
import type { Wharf } from './wharf.ts';

export type FsckProblemKind =
  | 'blob-missing' | 'blob-size' | 'blob-sha256'
  | 'index-differs' | 'scope-dirty'
  | 'temp-file' | 'orphan-blob'
  | 'catalog-totals' | 'search-index';

export interface FsckProblem {
  kind: FsckProblemKind;
  message: string;
  repo?: string;
  path?: string;
  scope?: string;
  keys?: string[];
  sha256?: string;
  repaired: boolean;
}

export interface FsckReport {
  /** True when no problem is left (after repair, if asked). */
  clean: boolean;
  checked: { repositories: number; files: number; blobs: number; bytes: number; scopes: number; documents: number };
  problems: FsckProblem[];
  /** Unreferenced blobs younger than the grace period: an upload's, or a crash's; gc frees them later. */
  youngOrphans: number;
}

export interface FsckOptions {
  repair?: boolean;
  /** Orphaned blobs committed more recently than this are noted, not reported (default: wharf.gcGraceMs). */
  graceMs?: number;
  /** Recompute every blob's sha256 (default true); false checks presence and size only. */
  hashBlobs?: boolean;
}

export async function fsck(wharf: Wharf, opts: FsckOptions = {}): Promise<FsckReport> {
  const graceMs = opts.graceMs ?? wharf.gcGraceMs;
  const report: FsckReport = {
    clean: true,
    checked: { repositories: 0, files: 0, blobs: 0, bytes: 0, scopes: 0, documents: 0 },
    problems: [],
    youngOrphans: 0,
  };
  await checkBlobs(wharf, report, opts.hashBlobs ?? true);
  await checkIndexes(wharf, report);
  await checkGarbage(wharf, report, graceMs);
  await checkCatalog(wharf, report);
  if (opts.repair) await repair(wharf, report, graceMs);
  report.clean = report.problems.every((p) => p.repaired);
  return report;
}

async function checkBlobs(wharf: Wharf, report: FsckReport, hash: boolean): Promise<void> {
  const verdicts = new Map<string, FsckProblemKind | null>();
  const sizes = new Map<string, number>();
  for await (const b of wharf.blobs.list()) sizes.set(b.sha256, b.size);
  for await (const f of wharf.store.iterateFiles()) {
    report.checked.files++;
    let verdict = verdicts.get(f.sha256);
    if (verdict === undefined) {
      const size = sizes.get(f.sha256);
      if (size === undefined) verdict = 'blob-missing';
      else if (size !== f.size) verdict = 'blob-size';
      else if (hash && (await sha256Of(wharf, f.sha256)) !== f.sha256) verdict = 'blob-sha256';
      else verdict = null;
      verdicts.set(f.sha256, verdict);
      report.checked.blobs++;
      report.checked.bytes += size ?? 0;
    }
    if (verdict === null) continue;
    const what = verdict === 'blob-missing' ? 'its blob is missing'
      : verdict === 'blob-size' ? `its blob has ${sizes.get(f.sha256)} bytes, not ${f.size}`
        : 'its blob\'s content does not match its sha256';
    report.problems.push({ kind: verdict, repo: f.repo, path: f.path, sha256: f.sha256, repaired: false, message: `${f.repo}/${f.path}: ${what} (sha256 ${f.sha256})` });
  }
}

async function sha256Of(wharf: Wharf, sha256: string): Promise<string | null> {
  const h = createHash('sha256');
  try {
    await pipeline(wharf.blobs.open(sha256), h);
  } catch {
    return null;
  }
  return h.digest('hex');
}

/**
 * Each published (or dirty) scope is built afresh inside a transaction that is rolled back,
 * since a build may store documents of its own (APT's by-hash files), and compared with what
 * is published, key by key. A scope whose fresh build is empty is not compared: formats keep
 * derived scopes that only another scope's build writes.
 */
async function checkIndexes(wharf: Wharf, report: FsckReport): Promise<void> {
  const dirty = new Map<number, Set<string>>();
  for (const d of await wharf.store.listDirty()) {
    if (!dirty.has(d.repoId)) dirty.set(d.repoId, new Set());
    dirty.get(d.repoId)!.add(d.scope);
  }
  for (const repo of wharf.listRepos()) {
    report.checked.repositories++;
    const scopes = new Set([...(await wharf.store.listIndexScopes(repo.id, '')), ...(dirty.get(repo.id) ?? [])]);
    for (const scope of [...scopes].sort()) {
      if (dirty.get(repo.id)?.has(scope)) {
        report.problems.push({ kind: 'scope-dirty', repo: repo.name, scope, repaired: false, message: `${repo.name}: index scope ${scope} was never published after a change` });
        continue;
      }
      const fresh = await freshBuild(wharf, repo, scope);
      if (fresh.length === 0) continue;
      report.checked.scopes++;
      const differing = await compareScope(wharf, repo, scope, fresh);
      report.checked.documents += fresh.length;
      if (differing.length) {
        report.problems.push({
          kind: 'index-differs', repo: repo.name, scope, keys: differing, repaired: false,
          message: `${repo.name}: published index differs from the database in scope ${scope}: ${differing.join(', ')}`,
        });
      }
    }
  }
}

async function freshBuild(wharf: Wharf, repo: Repository, scope: string): Promise<IndexDocument[]> {
  // A build awaits more than the database (signing): no harm here, fsck runs offline and
  // nothing else waits for this transaction.
  return wharf.store.sql.transaction(() => wharf.pluginFor(repo).buildScope(wharf.contextFor(repo), scope), { rollback: true });
}

/** Keys of the scope whose published document is missing, extra, or says something else. */
async function compareScope(wharf: Wharf, repo: Repository, scope: string, fresh: IndexDocument[]): Promise<string[]> {
  const plugin = wharf.pluginFor(repo);
  const same = plugin.sameDocument ?? ((_k: string, a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0);
  const published = new Set(await wharf.store.listIndexKeys(repo.id, scope));
  const out: string[] = [];
  for (const d of fresh) {
    const row = await wharf.store.getIndex(repo.id, d.key);
    const body = typeof d.body === 'string' ? Buffer.from(d.body, 'utf8') : d.body;
    if (!row || row.scope !== scope || !same(d.key, row.body, body)) out.push(d.key);
    published.delete(d.key);
  }
  out.push(...published);
  return out.sort();
}

async function checkGarbage(wharf: Wharf, report: FsckReport, graceMs: number): Promise<void> {
  for (const t of await wharf.blobs.listTemp()) {
    report.problems.push({ kind: 'temp-file', path: t.name, repaired: false, message: `blobs/tmp/${t.name}: a temp file (${t.size} bytes) left by an interrupted upload` });
  }
  const now = Date.now();
  const orphan = (sha256: string, size: number, mtimeMs: number | null) => {
    if (mtimeMs !== null && now - mtimeMs < graceMs) {
      report.youngOrphans++;
      return;
    }
    report.problems.push({
      kind: 'orphan-blob', sha256, repaired: false,
      message: `blob ${sha256} (${size} bytes${mtimeMs === null ? ', its file missing' : ''}) is referenced by no file`,
    });
  };
  const onDisk = new Map<string, { size: number; mtimeMs: number }>();
  for await (const b of wharf.blobs.list()) onDisk.set(b.sha256, b);
  for await (const row of wharf.store.iterateBlobRows()) {
    const file = onDisk.get(row.sha256);
    onDisk.delete(row.sha256);
    if (!(await wharf.store.isBlobReferenced(row.sha256))) orphan(row.sha256, file?.size ?? row.size, file?.mtimeMs ?? null);
  }
  // Files no blob row names at all (committed, then killed before the rows).
  for (const [sha256, f] of onDisk) if (!(await wharf.store.isBlobReferenced(sha256))) orphan(sha256, f.size, f.mtimeMs);
}

/** The pages' totals and search index, which triggers keep in step with the rows. */
async function checkCatalog(wharf: Wharf, report: FsckReport): Promise<void> {
  for (const id of await wharf.catalog.driftedTotals()) {
    const repo = (await wharf.store.getRepoById(id))?.name ?? String(id);
    report.problems.push({ kind: 'catalog-totals', repo, repaired: false, message: `${repo}: the package, file or byte totals the pages show differ from its rows` });
  }
  if (!(await wharf.catalog.searchIndexIntact())) {
    report.problems.push({ kind: 'search-index', repaired: false, message: 'the search index differs from the packages it indexes' });
  }
}

async function repair(wharf: Wharf, report: FsckReport, graceMs: number): Promise<void> {
  const byRepo = new Map<string, Set<string>>();
  for (const p of report.problems) {
    if ((p.kind === 'index-differs' || p.kind === 'scope-dirty') && p.repo && p.scope) {
      if (!byRepo.has(p.repo)) byRepo.set(p.repo, new Set());
      byRepo.get(p.repo)!.add(p.scope);
    }
  }
  const failed = new Set<string>();
  for (const [name, scopes] of byRepo) {
    const repo = wharf.requireRepo(name);
    for (const scope of scopes) {
      await wharf.publish(repo, [scope]).catch((err: Error) => {
        failed.add(`${name}\n${scope}`);
        wharf.log.error({ repo: name, scope, err: err.message }, 'fsck could not republish a scope');
      });
    }
    await wharf.publisher.flush();
  }
  for (const p of report.problems) {
    if ((p.kind === 'index-differs' || p.kind === 'scope-dirty') && !failed.has(`${p.repo}\n${p.scope}`)) p.repaired = true;
  }
  if (report.problems.some((p) => p.kind === 'catalog-totals' || p.kind === 'search-index')) {
    await wharf.catalog.rebuild();
    for (const p of report.problems) if (p.kind === 'catalog-totals' || p.kind === 'search-index') p.repaired = true;
  }
  // The caller holds the data directory's lock: no upload is writing to blobs/tmp.
  for (const p of report.problems) {
    if (p.kind !== 'temp-file' || !p.path) continue;
    await wharf.blobs.removeTemp(p.path);
    p.repaired = true;
  }
  if (report.problems.some((p) => p.kind === 'orphan-blob')) {
    await wharf.gc({ graceMs });
    for (const p of report.problems) {
      if (p.kind === 'orphan-blob' && p.sha256 && !(await wharf.blobs.has(p.sha256)) && !(await wharf.store.isBlobReferenced(p.sha256))) p.repaired = true;
    }
  }
  // After the repairs, which are many steps outside one transaction; by the caller's actor (`cli`).
  const repaired: Record<string, number> = {};
  for (const p of report.problems) if (p.repaired) repaired[p.kind] = (repaired[p.kind] ?? 0) + 1;
  if (Object.keys(repaired).length) await wharf.audit({ action: 'fsck-repair', detail: { repaired } });
}

/** The report as lines for a terminal. */
export function formatFsckReport(r: FsckReport, repairAsked: boolean): string {
  const c = r.checked;
  const lines = [`checked ${c.files} files (${c.blobs} blobs, ${c.bytes} bytes) and ${c.documents} index documents in ${c.scopes} scopes of ${c.repositories} repositories`];
  for (const p of r.problems) lines.push(`${p.repaired ? 'repaired' : repairAsked ? 'NOT FIXED' : 'problem'}: ${p.message}`);
  if (r.youngOrphans) lines.push(`note: ${r.youngOrphans} unreferenced blobs are younger than the grace period; gc frees them later`);
  const left = r.problems.filter((p) => !p.repaired);
  if (left.length === 0) lines.push(r.problems.length ? `all ${r.problems.length} problems repaired` : 'clean');
  else {
    lines.push(`${left.length} problems${repairAsked ? ' left' : ''}`);
    const blobs = left.filter((p) => p.kind.startsWith('blob-'));
    if (blobs.length) lines.push('missing or corrupt blobs cannot be repaired here: restore those files from a backup, or delete them and upload them again');
    if (!repairAsked && left.some((p) => !p.kind.startsWith('blob-'))) lines.push('run `wharf fsck --repair` to republish indexes and remove temp files and old orphans');
  }
  return lines.join('\n') + '\n';
}
