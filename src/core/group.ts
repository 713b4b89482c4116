// Options every group repository has: its ordered members, where uploads go, and which
// projects may be merged from proxies although a hosted member has them.
import type { Principal } from './auth/principal.ts';
import { badRequest } from './errors.ts';
import type { Repository } from './model.ts';

export interface GroupOptions {
  /** Member repository names, in resolution order. */
  members: string[];
  /** The hosted member that receives uploads made to the group. */
  uploadTo: string | null;
  /**
   * Names a hosted member may share with later proxy members. Any other name a hosted member
   * has hides the proxies' copies: the guard against dependency confusion.
   */
  allowlist: string[];
}

export const GROUP_OPTION_KEYS = ['members', 'uploadTo', 'allowlist'] as const;

export function normalizeGroupOptions(options: Record<string, unknown>, self: { name: string; format: string; nestedGroups?: boolean }, lookup: (name: string) => Repository | undefined): GroupOptions {
  const members = options.members;
  if (!Array.isArray(members) || members.length === 0 || !members.every((m) => typeof m === 'string')) {
    throw badRequest('a group needs "members": a non-empty list of repository names');
  }
  if (new Set(members).size !== members.length) throw badRequest('a group lists a member twice');
  for (const name of members as string[]) {
    if (name === self.name) throw badRequest('a group cannot contain itself');
    const m = lookup(name);
    if (!m) throw badRequest(`group member ${name} does not exist`);
    if (m.format !== self.format) throw badRequest(`group member ${name} is a ${m.format} repository, not ${self.format}`);
    if (m.kind === 'group' && self.nestedGroups === false) throw badRequest(`group member ${name} is a group: ${self.format} groups take hosted and proxy members`);
    if (m.kind === 'group' && (m.options.members as string[]).includes(self.name)) throw badRequest(`group member ${name} contains ${self.name}`);
  }
  let uploadTo: string | null = null;
  if (options.uploadTo !== undefined && options.uploadTo !== null) {
    if (typeof options.uploadTo !== 'string' || !members.includes(options.uploadTo)) throw badRequest('uploadTo must name one of the members');
    if (lookup(options.uploadTo)?.kind !== 'hosted') throw badRequest('uploadTo must be a hosted member');
    uploadTo = options.uploadTo;
  }
  const allowlist = options.allowlist ?? [];
  if (!Array.isArray(allowlist) || !allowlist.every((a) => typeof a === 'string')) throw badRequest('allowlist must be a list of names');
  return { members: members as string[], uploadTo, allowlist: allowlist as string[] };
}

export function groupOptionsOf(repo: Repository): GroupOptions {
  return repo.options as unknown as GroupOptions;
}

/**
 * A repository as its answers to `principal` are labelled. A group's members are filtered by
 * who asks, so what a signed-in user gets from a group may come from members others cannot
 * read: never `public` to a shared cache.
 */
export function groupAnswerRepo(group: Repository, principal: Principal): Repository {
  return group.kind !== 'group' || principal.kind === 'anonymous' || !group.publicRead ? group : { ...group, publicRead: false };
}
