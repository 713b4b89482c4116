// PEP 440 version specifiers (`>=1.0,!=1.3.*,<2`), evaluated the way current
// `packaging` does. @renovatebot/pep440 parses and orders versions, but its
// `satisfies()` gets exclusive comparisons wrong (`>1.0.post1` refuses 1.0.post2)
// and mixes the pre-release policy into each clause, so the clause rules live here.
import { compare, explain } from '@renovatebot/pep440';
import { badRequest } from '../../../core/errors.ts';

export type SpecifierOperator = '~=' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '===';

export interface SpecifierClause {
  operator: SpecifierOperator;
  /** The version as written, without the `.*` of a wildcard. */
  version: string;
  /** `==1.2.*` / `!=1.2.*`. */
  wildcard: boolean;
}

type Explained = NonNullable<ReturnType<typeof explain>>;

const CLAUSE_RE = /^\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s=<>!~]\S*?)\s*$/;
const WILDCARD_RE = /^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*$/i;

function explainVersion(v: string): Explained | null {
  return explain(v.trim());
}

function parseClause(text: string): SpecifierClause {
  const m = CLAUSE_RE.exec(text);
  if (!m) throw badRequest(`invalid version specifier ${JSON.stringify(text.trim())}`);
  const operator = m[1] as SpecifierOperator;
  let version = m[2];
  if (operator === '===') return { operator, version, wildcard: false };
  let wildcard = false;
  if (version.endsWith('.*')) {
    version = version.slice(0, -2);
    wildcard = true;
    if ((operator !== '==' && operator !== '!=') || !WILDCARD_RE.test(version)) {
      throw badRequest(`invalid version specifier ${JSON.stringify(text.trim())}: ".*" only follows a release number after == or !=`);
    }
  }
  const v = explainVersion(version);
  if (!v) throw badRequest(`invalid version specifier ${JSON.stringify(text.trim())}: ${JSON.stringify(version)} is not a PEP 440 version`);
  if (v.local !== null && operator !== '==' && operator !== '!=') {
    throw badRequest(`invalid version specifier ${JSON.stringify(text.trim())}: a local version label only goes with == or !=`);
  }
  if (operator === '~=' && v.release.length < 2) {
    throw badRequest(`invalid version specifier ${JSON.stringify(text.trim())}: ~= needs at least two release numbers`);
  }
  return { operator, version, wildcard };
}

/** Parse a comma-separated specifier set; '' (any version) gives no clauses. */
export function parseSpecifier(text: string): SpecifierClause[] {
  if (text.trim() === '') return [];
  return text.split(',').map(parseClause);
}

export function formatSpecifier(clauses: readonly SpecifierClause[]): string {
  return clauses.map((c) => `${c.operator}${c.version}${c.wildcard ? '.*' : ''}`).join(',');
}

/** True when `text` parses as a specifier set. */
export function isValidSpecifier(text: string): boolean {
  try {
    parseSpecifier(text);
    return true;
  } catch {
    return false;
  }
}

const cmp = (a: string, b: string) => compare(a, b);

/** Epoch equal and the release, zero-padded, starting with `prefix`. */
function prefixMatches(v: Explained, epoch: number, prefix: readonly number[]): boolean {
  if (v.epoch !== epoch) return false;
  for (let i = 0; i < prefix.length; i++) if ((v.release[i] ?? 0) !== prefix[i]) return false;
  return true;
}

function sameBase(a: Explained, b: Explained): boolean {
  return cmp(a.base_version, b.base_version) === 0;
}

/** Whether one clause admits `version`, pre-releases included (policy is applied by the set). */
function clauseContains(c: SpecifierClause, raw: string, v: Explained | null): boolean {
  if (c.operator === '===') {
    const want = c.version.toLowerCase();
    return raw.trim().toLowerCase() === want;
  }
  if (!v) return false;
  const s = explainVersion(c.version)!;
  switch (c.operator) {
    case '==':
    case '!=': {
      const eq = c.wildcard
        ? prefixMatches(v, s.epoch, s.release)
        : cmp(s.local !== null ? raw.trim() : v.public, c.version) === 0;
      return c.operator === '==' ? eq : !eq;
    }
    case '<=': return cmp(v.public, c.version) <= 0;
    case '>=': return cmp(v.public, c.version) >= 0;
    case '<':
      if (!(cmp(raw.trim(), c.version) < 0)) return false;
      // `<2.0` must not admit 2.0a1, unless the bound is itself a pre-release.
      return !(!s.is_prerelease && v.is_prerelease && sameBase(v, s));
    case '>':
      if (!(cmp(raw.trim(), c.version) > 0)) return false;
      // `>1.0` must not admit 1.0.post1 (unless the bound is a post release) nor 1.0+local.
      if (!s.is_postrelease && v.is_postrelease && sameBase(v, s)) return false;
      return !(v.local !== null && sameBase(v, s));
    case '~=':
      return cmp(v.public, c.version) >= 0 && prefixMatches(v, s.epoch, s.release.slice(0, -1));
  }
}

/**
 * PEP 440: a set names pre-releases when one of its `==`, `>=`, `<=`, `~=`, `===`
 * clauses has a pre-release version; then pre-releases are acceptable.
 */
export function specifierAllowsPrereleases(clauses: readonly SpecifierClause[]): boolean {
  return clauses.some((c) => {
    if (c.operator !== '==' && c.operator !== '>=' && c.operator !== '<=' && c.operator !== '~=' && c.operator !== '===') return false;
    return explainVersion(c.version)?.is_prerelease ?? false;
  });
}

/** Pinned with `==X` (no wildcard) or `===X`: the PEP 592 case where yanked files still count. */
export function isPinned(clauses: readonly SpecifierClause[]): boolean {
  return clauses.some((c) => (c.operator === '==' && !c.wildcard) || c.operator === '===');
}

/**
 * Whether `version` satisfies every clause. `prereleases: false` refuses
 * pre-releases outright; the default admits them when the set names one.
 */
export function specifierContains(clauses: readonly SpecifierClause[], version: string, prereleases?: boolean): boolean {
  const v = explainVersion(version);
  const allow = prereleases ?? specifierAllowsPrereleases(clauses);
  if (v && v.is_prerelease && !allow) return false;
  return clauses.every((c) => clauseContains(c, version, v));
}

/**
 * The versions a resolver may pick (PEP 440 "handling of pre-releases"):
 * pre-releases when `prereleases` is true or the set names one, otherwise only
 * when no final or post release satisfies the set. Invalid versions only match
 * `===`. Input order is kept.
 */
export function filterVersions(versions: readonly string[], clauses: readonly SpecifierClause[], prereleases = false): string[] {
  const matching = versions.filter((raw) => {
    const v = explainVersion(raw);
    if (!v && !clauses.some((c) => c.operator === '===')) return false;
    return clauses.every((c) => clauseContains(c, raw, v));
  });
  if (prereleases || specifierAllowsPrereleases(clauses)) return matching;
  const finals = matching.filter((v) => !(explainVersion(v)?.is_prerelease ?? false));
  return finals.length > 0 ? finals : matching;
}
