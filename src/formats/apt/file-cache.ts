// The .deb files of a repository, held in memory between suite rebuilds: reading 10,000 rows
// of meta from the database costs more than building the indexes. The state is owned by the
// core (ctx.state): loaded from the database on first use, then told by the change feed which
// file paths changed since (uploads, deletions, a file added to another suite, whoever made
// them), and only those rows are read again.
import type { RepoChange } from '../../core/change-feed.ts';
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

class RepoDebs {
  private loaded = false;
  /** By path: a path names one file at a time. */
  private readonly entries = new Map<string, DebEntry>();
  private readonly changed = new Set<string>();

  applyChanges(changes: RepoChange[]): void {
    for (const c of changes) if (c.kind === 'file') this.changed.add(c.subject);
  }

  current(ctx: RepoContext): Iterable<DebEntry> {
    const { store, repo } = ctx;
    if (!this.loaded) {
      this.changed.clear();
      for (const f of store.listFilesByPrefix(repo.id, '')) {
        const e = toEntry(f);
        if (e) this.entries.set(e.path, e);
      }
      this.loaded = true;
    }
    for (const path of this.changed) {
      const f = store.getFileByPath(repo.id, path);
      const e = f && toEntry(f);
      if (e) this.entries.set(path, e);
      else this.entries.delete(path);
    }
    this.changed.clear();
    return this.entries.values();
  }
}

function toEntry(f: FileRow): DebEntry | undefined {
  const m = f.meta;
  if (m.kind !== 'deb') return undefined;
  return {
    id: f.id, path: f.path, sha256: f.sha256, stanza: String(m.stanza), name: String(m.package), version: String(m.version),
    arch: String(m.architecture), component: String(m.component), section: (m.section as string | null) ?? null,
    suites: (m.suites as string[] | undefined) ?? [], contents: (m.contents as string[] | undefined) ?? [],
  };
}

/** Every .deb of the repository, current as of this call. */
export function repoDebs(ctx: RepoContext): Iterable<DebEntry> {
  return ctx.state.get('apt:debs', () => new RepoDebs()).current(ctx);
}
