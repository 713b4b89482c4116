// PyPI's part of the static tree: the distributions and their core metadata at their own
// URLs (less a quarantined project's), the simple pages as negotiated pages (HTML or JSON by
// Accept), and the JSON API.
import type { RepoContext, StaticEntry } from '../../core/format-plugin.ts';
import { jsonApiKey, projectKey, ROOT_SCOPE, rootKey } from './paths.ts';

const SIMPLE_KEY = /^(simple\/(?:[^/#]+\/)?)#(html|json)$/;

/** The entries of published documents, by key. */
function pageEntries(indexKeys: string[]): StaticEntry[] {
  const out: StaticEntry[] = [];
  for (const key of indexKeys) {
    const m = SIMPLE_KEY.exec(key);
    // The root page names every project page: it goes last.
    if (m) out.push({ path: m[1], variant: m[2], source: { index: key }, phase: m[1] === 'simple/' ? 2 : 1 });
    else if (/^pypi\/[^/]+\/json$/.test(key)) out.push({ path: key, source: { index: key } });
  }
  return out;
}

/** Files below `prefix`, less those of quarantined projects (PEP 792: not offered for download). */
async function fileEntries(ctx: RepoContext, prefix: string): Promise<StaticEntry[]> {
  const quarantined = new Set((await ctx.store.listPackageStatuses(ctx.repo.id)).filter((s) => s.status === 'quarantined').map((s) => `packages/${s.name}/`));
  return (await ctx.store.listFileBlobs(ctx.repo.id, prefix))
    .filter((f) => quarantined.size === 0 || !quarantined.has(f.path.slice(0, f.path.indexOf('/', 'packages/'.length) + 1)))
    .map((f) => ({ path: f.path, source: { blob: f.sha256, size: f.size } }));
}

export async function pypiStaticEntries(ctx: RepoContext, indexKeys: string[]): Promise<StaticEntry[]> {
  return [...(await fileEntries(ctx, 'packages/')), ...pageEntries(indexKeys)];
}

/** The files and pages of the projects whose scopes were published, and the root pages. */
export async function pypiStaticEntriesOf(ctx: RepoContext, scopes: string[]): Promise<StaticEntry[]> {
  const out: StaticEntry[] = [];
  const keys: string[] = [];
  for (const scope of scopes) {
    if (scope === ROOT_SCOPE) keys.push(rootKey('html'), rootKey('json'));
    else if (scope.startsWith('project:')) {
      const project = scope.slice('project:'.length);
      out.push(...(await fileEntries(ctx, `packages/${project}/`)));
      keys.push(projectKey(project, 'html'), projectKey(project, 'json'), jsonApiKey(project));
    }
  }
  // A key the scopes no longer hold has no ETag: the core leaves it out.
  return [...out, ...pageEntries(keys)];
}
