// Who may change which repository options. Options that reach beyond the repository itself
// are checked against the principal: `listen` opens a port and `upstream` (with its
// credentials) makes the server fetch from any address it can reach, so both are the server
// administrator's; naming a repository as a group member needs read on it, and as the group's
// uploadTo, write on it, so a repository admin never gains access through their group.
import { badRequest, forbidden, type WharfError } from '../errors.ts';
import type { Repository } from '../model.ts';
import { can, isServerAdmin, type Principal } from './principal.ts';

const SERVER_ADMIN_OPTIONS: Record<string, readonly string[]> = {
  hosted: ['listen', 'aliases'],
  proxy: ['listen', 'aliases', 'upstream', 'username', 'password'],
  group: ['listen', 'aliases'],
};

const same = (a: unknown, b: unknown) => String(a ?? '') === String(b ?? '');
/** A proxy's upstream is stored with a trailing slash; `http://x` and `http://x/` are one URL. */
const sameUrl = (a: unknown, b: unknown) => same(a, b) || same(typeof a === 'string' && !a.endsWith('/') ? `${a}/` : a, b);

/** Why `principal` may not apply `options` to `repo` (an error to throw), or null when it may. */
export function optionChangeRefusal(principal: Principal, repo: Repository, options: Record<string, unknown>, lookup: (name: string) => Repository | undefined): WharfError | null {
  if (isServerAdmin(principal)) return null;
  for (const key of SERVER_ADMIN_OPTIONS[repo.kind] ?? []) {
    if (!(key in options)) continue;
    const unchanged = key === 'upstream' ? sameUrl(options[key], repo.options[key]) : same(options[key], repo.options[key]);
    if (!unchanged) return forbidden(`only server administrators change ${key}`);
  }
  if (repo.kind !== 'group') return null;
  const current = new Set(Array.isArray(repo.options.members) ? (repo.options.members as string[]) : []);
  if (Array.isArray(options.members)) {
    for (const name of options.members) {
      if (typeof name !== 'string' || current.has(name)) continue;
      const member = lookup(name);
      // Answered like a repository that does not exist: private names stay hidden.
      if (member && !can(principal, member, 'read')) return badRequest(`group member ${name} does not exist`);
    }
  }
  const uploadTo = options.uploadTo;
  if (typeof uploadTo === 'string' && uploadTo !== repo.options.uploadTo) {
    const target = lookup(uploadTo);
    if (target && !can(principal, target, 'read')) return badRequest(`group member ${uploadTo} does not exist`);
    if (target && !can(principal, target, 'write')) return forbidden(`uploadTo ${uploadTo} needs write on it`);
  }
  return null;
}
