// PyPI's part of the static tree: the distributions and their core metadata at their own
// URLs, the simple pages as negotiated pages (HTML or JSON by Accept), and the JSON API.
import type { RepoContext, StaticEntry } from '../../core/format-plugin.ts';

const SIMPLE_KEY = /^(simple\/(?:[^/#]+\/)?)#(html|json)$/;

export async function pypiStaticEntries(ctx: RepoContext, indexKeys: string[]): Promise<StaticEntry[]> {
  const out: StaticEntry[] = [];
  for (const f of await ctx.store.listFilesByPrefix(ctx.repo.id, 'packages/')) out.push({ path: f.path, source: { blob: f.sha256, size: f.size } });
  for (const key of indexKeys) {
    const m = SIMPLE_KEY.exec(key);
    // The root page names every project page: it goes last.
    if (m) out.push({ path: m[1], variant: m[2], source: { index: key }, phase: m[1] === 'simple/' ? 2 : 1 });
    else if (/^pypi\/[^/]+\/json$/.test(key)) out.push({ path: key, source: { index: key } });
  }
  return out;
}
