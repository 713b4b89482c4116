// An Arch repository's part of the static tree: packages and their signatures under each
// architecture they serve (an `any` package under every one), and each architecture's `.db`
// with its signature under the name pacman asks for when its section is named as the
// repository (`<arch>/<repo>.db`). Other names, and the `.files` dbs (published a moment after
// a change, and at once when read), stay with Wharf.
import type { RepoContext, StaticEntry } from '../../core/format-plugin.ts';
import { repoArchitectures } from './arches.ts';
import { archOfFilename } from './paths.ts';

const DB_KEY = /^([^/]+)\/db(\.sig)?$/;

export async function archStaticEntries(ctx: RepoContext, indexKeys: string[]): Promise<StaticEntry[]> {
  const out: StaticEntry[] = [];
  const arches = await repoArchitectures(ctx);
  for (const f of await ctx.store.listFileBlobs(ctx.repo.id, '')) {
    const slash = f.path.indexOf('/');
    if (slash < 0) continue;
    const fileArch = f.path.slice(0, slash);
    const name = f.path.slice(slash + 1);
    // What routes.ts serves: a package or its .sig (not the file lists kept beside them).
    if (archOfFilename(name.endsWith('.sig') ? name.slice(0, -4) : name) === null) continue;
    for (const arch of fileArch === 'any' ? arches : [fileArch]) out.push({ path: `${arch}/${name}`, source: { blob: f.sha256, size: f.size } });
  }
  for (const key of indexKeys) {
    const m = DB_KEY.exec(key);
    if (m) out.push({ path: `${m[1]}/${ctx.repo.name}.db${m[2] ?? ''}`, source: { index: key }, phase: 2 });
  }
  return out;
}
