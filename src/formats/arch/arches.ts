// The architectures a repository publishes dbs for: the configured ones plus every one a
// package was uploaded for (remembered, so a db is republished when its last package goes).
import type { RepoContext } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import type { Store } from '../../db/store.ts';
import { archOptions } from './options.ts';

const settingKey = (repo: Repository) => `arch:repo:${repo.id}:${repo.createdAt}:architectures`;

async function seen(store: Store, repo: Repository): Promise<string[]> {
  const raw = await store.getSetting(settingKey(repo));
  return raw ? (JSON.parse(raw) as string[]) : [];
}

export async function repoArchitectures(ctx: Pick<RepoContext, 'repo' | 'store'>): Promise<string[]> {
  return [...new Set([...archOptions(ctx.repo).architectures, ...await seen(ctx.store, ctx.repo)])].sort();
}

/** Remember an architecture a package was uploaded for (`any` is not one). */
export async function rememberArchitecture(ctx: Pick<RepoContext, 'repo' | 'store'>, arch: string): Promise<void> {
  if (arch === 'any') return;
  // Read and written in one transaction: two uploads for new architectures at once both count.
  const list = await seen(ctx.store, ctx.repo);
  if (list.includes(arch)) return;
  await ctx.store.transaction(async () => {
    const now = await seen(ctx.store, ctx.repo);
    if (!now.includes(arch)) await ctx.store.setSetting(settingKey(ctx.repo), JSON.stringify([...now, arch].sort()));
  });
}

/** The architectures whose dbs list a package of `arch`. */
export async function archesFor(ctx: Pick<RepoContext, 'repo' | 'store'>, arch: string): Promise<string[]> {
  return arch === 'any' ? repoArchitectures(ctx) : [arch];
}
