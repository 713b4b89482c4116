// The .deb files of a repository, held in memory between suite rebuilds: reading 10,000 rows
// of meta from the database costs more than building the indexes. Only what places a .deb in
// the indexes is held (name, version, architecture, component, suites, a hash of its stanza):
// the stanzas of a chunk being compressed, and file lists, are read from the database then. The state is owned by the
// core (ctx.state): loaded from the database on first use, then told by the change feed which
// file paths changed since (uploads, deletions, a file added to another suite, whoever made
// them), and only those rows are read again. Reads are awaited, so other requests run
// meanwhile: refreshes run one at a time, and memory changes only after a refresh's reads.
import { createHash } from 'node:crypto';
import type { RepoChange } from '../../core/change-feed.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import { KeyedMutex } from '../../core/keyed-mutex.ts';
import type { FileRow } from '../../core/model.ts';

export interface DebEntry {
  path: string;
  /** The first 32 bits of the file's SHA-256 modulo 1024 (where chunks are cut; a small integer costs no heap). */
  sha32: number;
  /** Of the Packages stanza: a chunk's key is made of them. */
  stanzaHash: string;
  name: string;
  version: string;
  arch: string;
  component: string;
  suites: readonly string[];
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
    // A page at a time: a whole repository's rows (stanzas, file lists) are never in memory at once.
    const entries = new Map<string, DebEntry>();
    try {
      for await (const page of ctx.store.eachFile(ctx.repo.id, { omitMeta: 'contents' })) {
        for (const f of page) {
          const e = toEntry(f);
          if (e) entries.set(e.path, e);
        }
      }
    } catch (err) {
      this.loaded = false;
      throw err;
    }
    this.entries.clear();
    for (const [path, e] of entries) this.entries.set(path, e);
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

/** A stanza's identity in a chunk key: 96 bits of its SHA-256 (a string of its own: a slice would keep the whole digest alive). */
export const stanzaHash = (stanza: string | Uint8Array) => createHash('sha256').update(stanza).digest().toString('base64url', 0, 12);

/** Few distinct values (components, architectures, suite lists): one copy of each. */
const interned = new Map<string, { value: unknown }>();
function intern<T>(key: string, value: T): T {
  let v = interned.get(key);
  if (!v) {
    if (interned.size > 10_000) interned.clear();
    interned.set(key, (v = { value }));
  }
  return v.value as T;
}

export function toEntry(f: FileRow): DebEntry | undefined {
  const m = f.meta;
  if (m.kind !== 'deb') return undefined;
  const suites = (m.suites as string[] | undefined) ?? [];
  const arch = String(m.architecture);
  const component = String(m.component);
  return {
    path: f.path, sha32: parseInt(f.sha256.slice(0, 8), 16) % 1024, stanzaHash: stanzaHash(String(m.stanza)), name: String(m.package), version: String(m.version),
    arch: intern(`a\0${arch}`, arch), component: intern(`c\0${component}`, component), suites: intern(`s\0${JSON.stringify(suites)}`, Object.freeze(suites)),
  };
}

/** Every .deb of the repository, current as of this call. */
export async function repoDebs(ctx: RepoContext): Promise<DebEntry[]> {
  return (await ctx.state.get('apt:debs', () => new RepoDebs())).current(ctx);
}
