// What APT and Arch share when they serve an index of their own built from members: a group's
// merge, or a proxy with a cooldown serving its upstream's index filtered (a group of itself).
import { cooldownOf } from './cooldown.ts';
import type { RepoContext, RouteContext } from './format-plugin.ts';
import type { Repository } from './model.ts';

/**
 * The members a reader may be served, in order (nested groups are refused when the group is
 * made); a proxy serving its own filtered index is its own one member.
 */
export function readableMembers(ctx: RouteContext): Repository[] {
  if (ctx.repo.kind === 'proxy') return [ctx.repo];
  return ctx.services.members(ctx.repo, ctx.principal).filter((m) => m.kind !== 'group');
}

/** Every member, readable or not (the dependency-confusion guard looks at all of them). */
export function everyMember(ctx: RepoContext): Repository[] {
  return ctx.repo.kind === 'proxy' ? [ctx.repo] : ctx.services.allMembers(ctx.repo);
}

/** Whether a proxy serves its own filtered, re-signed index instead of its upstream's. */
export const servesOwnIndex = (repo: Repository): boolean => repo.kind === 'proxy' && cooldownOf(repo) !== null;

/** A repository's cooldown settings, for memo keys: a change of them builds anew. */
export const cooldownKey = (r: Repository): string => `${String(r.options.minAge ?? '')}/${((r.options.minAgeExempt as string[] | undefined) ?? []).join(',')}`;
