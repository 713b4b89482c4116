// Other URL prefixes a repository answers at (option `aliases`): a migrated devpi index keeps
// `/<user>/<index>/` (devpi's `+simple/` being Wharf's `simple/`), so the pip.conf and
// .pypirc files that name it keep working. Pure: the server rewrites a request's path with it.
import { badRequest } from './errors.ts';
import type { Repository } from './model.ts';

const ALIAS_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** Whether `a` has an alias's form (`user/index`, letters, digits, ".", "_", "-", "+"). */
export function isValidAlias(a: string): boolean {
  return ALIAS_RE.test(a);
}

/** Checks a repository's `aliases`: `user/index` strings no other repository claims, under no repository's name. */
export function normalizeAliases(value: unknown, self: string, repos: Repository[]): string[] {
  if (!Array.isArray(value) || value.some((a) => typeof a !== 'string' || !ALIAS_RE.test(a))) {
    throw badRequest('aliases must be a list of user/index paths (letters, digits, ".", "_", "-"), e.g. ["alice/dev"]');
  }
  const aliases = [...new Set(value as string[])];
  for (const a of aliases) {
    const first = a.split('/')[0];
    if (first === '-' || repos.some((r) => r.name === first)) throw badRequest(`alias ${a} starts with the name of repository ${first}: its URLs would be that repository's`);
    const other = repos.find((r) => r.name !== self && Array.isArray(r.options.aliases) && (r.options.aliases as string[]).includes(a));
    if (other) throw badRequest(`alias ${a} is already repository ${other.name}'s`);
  }
  return aliases;
}

/** alias -> repository name, for every repository that has aliases. */
export function aliasTable(repos: Iterable<Repository>): Map<string, string> {
  const table = new Map<string, string>();
  for (const r of repos) if (Array.isArray(r.options.aliases)) for (const a of r.options.aliases as string[]) table.set(a, r.name);
  return table;
}

/**
 * The path a request for an alias means (`/alice/dev/+simple/x/` -> `/alice-dev/simple/x/`,
 * `/alice/dev/` -> `/alice-dev/`), or undefined when `url` names no alias.
 */
export function rewriteAlias(url: string, table: Map<string, string>, isRepo: (name: string) => boolean): string | undefined {
  if (table.size === 0) return undefined;
  const m = /^\/([^/?]+)\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(url);
  // A repository created later under an alias's first segment keeps its own URLs.
  if (!m || isRepo(m[1])) return undefined;
  const repo = table.get(`${m[1]}/${m[2]}`);
  if (!repo) return undefined;
  let rest = m[3] ?? '';
  if (rest === '/+simple' || rest.startsWith('/+simple/')) rest = `/simple${rest.slice(8)}`;
  return `/${repo}${rest}${m[4] ?? ''}`;
}
