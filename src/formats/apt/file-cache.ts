// The .deb files of a repository, held in memory between suite rebuilds: reading 10,000 rows
// of meta from the database costs more than building the indexes. The state is owned by the
// core (ctx.state): loaded from the database on first use, then told by the change feed which
// file paths changed since (uploads, deletions, a file added to another suite, whoever made
// them), and only those rows are read again. Reads are awaited, so other requests run
// meanwhile: refreshes run one at a time, and memory changes only after a refresh's reads.
import type { RepoChange } from '../../core/change-feed.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import { KeyedMutex } from '../../core/keyed-mutex.ts';
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

/** More changed paths than this are read with the whole listing (one query) instead of one by one. */
const RELOAD_AT = 512;

class RepoDebs {
  private loaded = false;
  /** By path: a path names one file at a time. */
  private readonly entries = new Map<string, DebEntry>();
  private readonly changed = new Set<string>();
  /**
   * One refresh at a time: two overlapping ones could apply an older read of a path after a
   * newer one.
   */
  private readonly lock = new KeyedMutex();

  applyChanges(changes: RepoChange[]): void {
    for (const c of changes) if (c.kind === 'file') this.changed.add(c.subject);
  }

  /** Every entry, current as of the call: an array, so later refreshes do not change it. */
  current(ctx: RepoContext): Promise<DebEntry[]> {
    return this.lock.run('refresh', async () => {
      if (!this.loaded || this.changed.size > RELOAD_AT) await this.load(ctx);
      else if (this.changed.size) await this.reread(ctx);
      return [...this.entries.values()];
    });
  }

  private async load(ctx: RepoContext): Promise<void> {
    // Cleared before the read: a path noted while it runs is read again next time.
    this.changed.clear();
    let rows: FileRow[];
    try {
      rows = await ctx.store.listFilesByPrefix(ctx.repo.id, '');
    } catch (err) {
      this.loaded = false;
      throw err;
    }
    this.entries.clear();
    for (const f of rows) {
      const e = toEntry(f);
      if (e) this.entries.set(e.path, e);
    }
    this.loaded = true;
  }

  private async reread(ctx: RepoContext): Promise<void> {
    const paths = [...this.changed];
    this.changed.clear();
    let rows: (FileRow | undefined)[];
    try {
      rows = await Promise.all(paths.map((path) => ctx.store.getFileByPath(ctx.repo.id, path)));
    } catch (err) {
      // Not read: noted again for the next refresh.
      for (const path of paths) this.changed.add(path);
      throw err;
    }
    paths.forEach((path, i) => {
      const f = rows[i];
      const e = f && toEntry(f);
      if (e) this.entries.set(path, e);
      else this.entries.delete(path);
    });
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
export async function repoDebs(ctx: RepoContext): Promise<DebEntry[]> {
  return (await ctx.state.get('apt:debs', () => new RepoDebs())).current(ctx);
}
