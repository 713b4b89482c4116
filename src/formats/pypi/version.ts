// PEP 440 versions. Parsing and ordering come from @renovatebot/pep440; the
// canonical string is built here because the library's `clean()` joins local
// segments with commas (`1.0+a,1`) instead of dots.
import { parse, compare } from '@renovatebot/pep440';

// The library's typings describe `explain()`; `parse()` really returns these arrays.
interface Parsed {
  epoch: number;
  release: number[];
  pre: [string, number] | null;
  post: [string, number] | null;
  dev: [string, number] | null;
  local: (string | number)[] | null;
}

function canonical(p: Parsed): string {
  let s = p.epoch !== 0 ? `${p.epoch}!` : '';
  s += p.release.join('.');
  if (p.pre) s += p.pre.join('');
  if (p.post) s += '.' + p.post.join('');
  if (p.dev) s += '.' + p.dev.join('');
  if (p.local) s += '+' + p.local.join('.');
  return s;
}

/** Parse ignoring surrounding whitespace, as packaging's `Version()` does. */
function parseVersion(v: string): Parsed | null {
  return parse(v.trim()) as unknown as Parsed | null;
}

/** The PEP 440 canonical form (`1.0.0-RC1` → `1.0.0rc1`), or null when invalid. */
export function normalizeVersion(v: string): string | null {
  const p = parseVersion(v);
  return p ? canonical(p) : null;
}

export function isValidVersion(v: string): boolean {
  return parseVersion(v) !== null;
}

/**
 * PEP 440 order (negative, zero, positive). Invalid versions (legacy uploads)
 * sort before every valid one, and among themselves by plain string order, so a
 * sort never throws.
 */
export function compareVersions(a: string, b: string): number {
  const va = isValidVersion(a);
  const vb = isValidVersion(b);
  if (va && vb) {
    const c = compare(a.trim(), b.trim());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (va !== vb) return va ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ascending PEP 440 order; a new array. Equal versions keep their input order. */
export function sortVersions(vs: string[]): string[] {
  return [...vs].sort(compareVersions);
}

/** Pre-releases and dev releases (PEP 440); invalid versions are not pre-releases. */
export function isPrerelease(v: string): boolean {
  const p = parseVersion(v);
  return p !== null && (p.pre !== null || p.dev !== null);
}
