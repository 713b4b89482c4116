// Repository patterns in grants and token scopes: exact names or `*` globs (`team-*`).

const cache = new Map<string, RegExp>();

export function matchesRepoPattern(pattern: string, repo: string): boolean {
  if (pattern === '*' || pattern === repo) return true;
  if (!pattern.includes('*')) return false;
  let re = cache.get(pattern);
  if (!re) {
    re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*') + '$');
    cache.set(pattern, re);
  }
  return re.test(repo);
}

const PATTERN_RE = /^[a-z0-9*][a-z0-9._*-]{0,63}$/;
export function isValidRepoPattern(pattern: string): boolean {
  return PATTERN_RE.test(pattern);
}
