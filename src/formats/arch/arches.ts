// The architectures a repository publishes dbs for: the configured ones plus every one a
// package was uploaded for (remembered, so a db is republished when its last package goes).
import type { RepoContext } from '../../core/format-plugin.ts';
import type { Repository } from '../../core/model.ts';
import type { Store } from '../../db/store.ts';
import { archOptions } from './options.ts';

const settingKey = (repo: Repository) => `arch:repo:${repo.id}:${repo.createdAt}:architectures`;

function seen(store: Store, repo: Repository): string[] {
  const raw = store.getSetting(settingKey(repo));
  return raw ? (JSON.parse(raw) as string[]) : [];
}

export function repoArchitectures(ctx: Pick<RepoContext, 'repo' | 'store'>): string[] {
  return [...new Set([...archOptions(ctx.repo).architectures, ...seen(ctx.store, ctx.repo)])].sort();
}

/** Remember an architecture a package was uploaded for (`any` is not one). */
export function rememberArchitecture(ctx: Pick<RepoContext, 'repo' | 'store'>, arch: string): void {
  if (arch === 'any') return;
  const list = seen(ctx.store, ctx.repo);
  if (!list.includes(arch)) ctx.store.setSetting(settingKey(ctx.repo), JSON.stringify([...list, arch].sort()));
}

/** The architectures whose dbs list a package of `arch`. */
export function archesFor(ctx: Pick<RepoContext, 'repo' | 'store'>, arch: string): string[] {
  return arch === 'any' ? repoArchitectures(ctx) : [arch];
}
