// A files repository's part of the static tree: each file at its path. Directory listings
// stay with Wharf (a URL ending in '/'): a file may be named anything, index.html included.
import type { RepoContext, StaticEntry } from '../../core/format-plugin.ts';

export async function filesStaticEntries(ctx: RepoContext): Promise<StaticEntry[]> {
  return (await ctx.store.listFilesByPrefix(ctx.repo.id, '')).map((f) => ({ path: f.path, source: { blob: f.sha256, size: f.size } }));
}
