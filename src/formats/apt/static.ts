// An APT repository's part of the static tree: the pool, and every name below `dists/` that
// Wharf answers: each suite's signed Release files, and the index files of the generations
// its state keeps, by name (current generation) and by hash (every kept generation).
import type { RepoContext, StaticEntry } from '../../core/format-plugin.ts';
import { parseState } from './suite-build.ts';

const SIGNED_KEY = /^dists\/[^/]+\/(Release|InRelease|Release\.gpg)$/;
const HASH_FIELDS = { MD5Sum: 'md5', SHA256: 'sha256', SHA512: 'sha512' } as const;

export async function aptStaticEntries(ctx: RepoContext, indexKeys: string[]): Promise<StaticEntry[]> {
  const out: StaticEntry[] = [];
  for (const f of await ctx.store.listFileBlobs(ctx.repo.id, 'pool/')) out.push({ path: f.path, source: { blob: f.sha256, size: f.size } });
  for (const key of indexKeys) {
    // Release, InRelease and Release.gpg name the index files: they go last.
    if (SIGNED_KEY.test(key)) out.push({ path: key, source: { index: key }, phase: 2 });
    if (!key.startsWith('apt-state/')) continue;
    const suite = key.slice('apt-state/'.length);
    const row = await ctx.store.getIndex(ctx.repo.id, key);
    if (!row) continue;
    const state = parseState(row.body);
    const seen = new Set<string>();
    const add = (rel: string, f: { content: string; gunzip?: boolean }) => {
      if (seen.has(rel)) return;
      seen.add(rel);
      out.push({ path: `dists/${suite}/${rel}`, source: { index: f.content, gunzip: f.gunzip === true } });
    };
    // The current generation's names first, as routes.ts lets them win.
    for (const [rel, f] of Object.entries(state.generations[0]?.files ?? {})) add(rel, f);
    for (const gen of state.generations) {
      for (const [rel, f] of Object.entries(gen.files)) {
        const slash = rel.lastIndexOf('/');
        const dir = slash < 0 ? '' : rel.slice(0, slash + 1);
        for (const [field, prop] of Object.entries(HASH_FIELDS)) add(`${dir}by-hash/${field}/${f[prop]}`, f);
      }
    }
  }
  return out;
}
