// A files repository's part of the static tree: each file at its path. Directory listings
// stay with Wharf (a URL ending in '/'): a file may be named anything, index.html included.
import type { RepoContext, StaticEntry } from '../../core/format-plugin.ts';
import { SCOPE_PREFIX } from './paths.ts';

export async function filesStaticEntries(ctx: RepoContext): Promise<StaticEntry[]> {
  return (await ctx.store.listFileBlobs(ctx.repo.id, '')).map((f) => ({ path: f.path, source: { blob: f.sha256, size: f.size } }));
}

/** The files directly in the directories whose listings were published. */
export async function filesStaticEntriesOf(ctx: RepoContext, scopes: string[]): Promise<StaticEntry[]> {
  const out: StaticEntry[] = [];
  for (const scope of scopes) {
    if (!scope.startsWith(SCOPE_PREFIX)) continue;
    const { files } = await ctx.store.listDirectory(ctx.repo.id, scope.slice(SCOPE_PREFIX.length));
    for (const f of files) out.push({ path: f.path, source: { blob: f.sha256, size: f.size } });
  }
  return out;
}
