// Who is asking, and what they may do with a repository.
import type { Grant, Permission, Repository, SessionRow, TokenRow, User } from '../model.ts';
import { PERMISSIONS, permissionAtLeast } from '../model.ts';
import { matchesRepoPattern } from './patterns.ts';

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; user: User; grants: Grant[] }
  | { kind: 'token'; user: User; grants: Grant[]; token: TokenRow }
  // A browser signed in through the form: the user's own rights, but cookie-borne, so the
  // server takes it only for reads and for its own CSRF-checked forms (auth-hook.ts).
  | { kind: 'session'; user: User; grants: Grant[]; session: SessionRow };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

function maxPermission(a: Permission | null, b: Permission | null): Permission | null {
  if (a === null) return b;
  if (b === null) return a;
  return permissionAtLeast(a, b) ? a : b;
}
function minPermission(a: Permission | null, b: Permission | null): Permission | null {
  if (a === null || b === null) return null;
  return permissionAtLeast(a, b) ? b : a;
}

/** The user's own permission on a repository, from admin status and grants. */
function userPermission(user: User, grants: Grant[], repoName: string): Permission | null {
  if (user.isAdmin) return 'admin';
  let best: Permission | null = null;
  for (const g of grants) if (matchesRepoPattern(g.repoPattern, repoName)) best = maxPermission(best, g.permission);
  return best;
}

/** The effective permission of a principal on a repository (null: none). */
export function permissionOn(p: Principal, repo: Pick<Repository, 'name' | 'publicRead'>): Permission | null {
  const publicRead: Permission | null = repo.publicRead ? 'read' : null;
  if (p.kind === 'anonymous') return publicRead;
  let own = userPermission(p.user, p.grants, repo.name);
  if (p.kind === 'token') {
    // A token never exceeds its owner, its permission or its repository scope.
    const inScope = p.token.repos.some((pat) => matchesRepoPattern(pat, repo.name));
    own = inScope ? minPermission(own, p.token.permission) : null;
  }
  return maxPermission(own, publicRead);
}

export function can(p: Principal, repo: Pick<Repository, 'name' | 'publicRead'>, need: Permission): boolean {
  const have = permissionOn(p, repo);
  return have !== null && permissionAtLeast(have, need);
}

/** Server-wide administration (creating repositories and users): admins, or their all-repository admin tokens. */
export function isServerAdmin(p: Principal): boolean {
  if (p.kind === 'anonymous' || !p.user.isAdmin) return false;
  if (p.kind === 'token') return p.token.permission === 'admin' && p.token.repos.includes('*');
  return true;
}

export function principalName(p: Principal): string {
  return p.kind === 'anonymous' ? 'anonymous' : p.user.name;
}

/** The name recorded with what a principal uploads (undefined for anonymous uploads). */
export function uploaderName(p: Principal): string | undefined {
  return p.kind === 'anonymous' ? undefined : p.user.name;
}

export { PERMISSIONS };
