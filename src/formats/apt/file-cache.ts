// The .deb files of a repository, held in memory between suite rebuilds: reading 10,000 rows
// of meta from the database costs more than building the indexes. The cache is checked
// against the database before each use: new rows are read by id (ids only grow), a different
// row count (deletions) reloads everything, and membership changes (a file added to or taken
// out of a suite, and deletions, whose row ids SQLite may reuse) bump a marker in the database
// that every process compares.
import type { RepoContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';

export interface DebEntry {
  id: number;
  path: string;
  sha256: string;
  stanza: string;
  name: string;
  version: string;
  arch: string;
  component: string;
  section: string | null;
  suites: string[];
  contents: string[];
}

interface RepoFiles {
  maxId: number;
  membership: string;
  entries: Map<number, DebEntry>;
}

const cache = new Map<number, RepoFiles>();
const membershipKey = (repoId: number) => `repo:${repoId}:apt:membership`;

function toEntry(f: FileRow): DebEntry | undefined {
  const m = f.meta;
  if (m.kind !== 'deb') return undefined;
  return {
    id: f.id, path: f.path, sha256: f.sha256, stanza: String(m.stanza), name: String(m.package), version: String(m.version),
    arch: String(m.architecture), component: String(m.component), section: (m.section as string | null) ?? null,
    suites: (m.suites as string[] | undefined) ?? [], contents: (m.contents as string[] | undefined) ?? [],
  };
}

/** Call inside the transaction that changes which suites list an existing file. */
export function noteMembershipChange(ctx: RepoContext): void {
  ctx.store.setSetting(membershipKey(ctx.repo.id), `${Date.now()}-${Math.random().toString(36).slice(2)}`);
}

/** Every .deb of the repository, current as of this call. */
export function repoDebs(ctx: RepoContext): Iterable<DebEntry> {
  const { store, repo } = ctx;
  const membership = store.getSetting(membershipKey(repo.id)) ?? '';
  let c = cache.get(repo.id);
  if (c && c.membership === membership) {
    for (const f of store.listFilesAfterId(repo.id, c.maxId)) {
      const e = toEntry(f);
      if (e) c.entries.set(e.id, e);
      c.maxId = Math.max(c.maxId, f.id);
    }
    // Files of other kinds are not cached, so compare counts of .debs only when all are debs.
    if (store.countFiles(repo.id) === c.entries.size) return c.entries.values();
  }
  c = { maxId: 0, membership, entries: new Map() };
  for (const f of store.listFilesByPrefix(repo.id, '')) {
    const e = toEntry(f);
    if (e) c.entries.set(e.id, e);
    c.maxId = Math.max(c.maxId, f.id);
  }
  cache.set(repo.id, c);
  return c.entries.values();
}
