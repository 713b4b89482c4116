// PEP 508 environment markers: parsed into a small tree, evaluated against the
// environment pip would report on a mirror target. Comparisons follow packaging:
// PEP 440 rules when `op value` is a valid specifier and the other side a valid
// version, Python string comparison otherwise.
import { badRequest } from '../../../core/errors.ts';
import { normalizeName } from '../names.ts';
import { parseSpecifier, specifierContains } from './specifier.ts';
import { platformInfo, pythonVersion, type Target } from './target.ts';

export interface MarkerEnvironment {
  python_version: string;
  python_full_version: string;
  os_name: string;
  sys_platform: string;
  platform_system: string;
  platform_machine: string;
  platform_release: string;
  platform_version: string;
  platform_python_implementation: string;
  implementation_name: string;
  implementation_version: string;
}

export type MarkerVariable = keyof MarkerEnvironment | 'extra';
export type MarkerOperator = '===' | '==' | '!=' | '<=' | '>=' | '~=' | '<' | '>' | 'in' | 'not in';
export type MarkerValue = { variable: MarkerVariable } | { value: string };

export type Marker =
  | { op: 'and' | 'or'; left: Marker; right: Marker }
  | { op: 'compare'; lhs: MarkerValue; operator: MarkerOperator; rhs: MarkerValue };

const VARIABLES: ReadonlySet<string> = new Set([
  'python_version', 'python_full_version', 'os_name', 'sys_platform', 'platform_system',
  'platform_machine', 'platform_release', 'platform_version', 'platform_python_implementation',
  'implementation_name', 'implementation_version', 'extra',
]);

/** Pre-PEP 508 spellings packaging still accepts. */
const ALIASES: Readonly<Record<string, MarkerVariable>> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: MarkerOperator }
  | { kind: '(' | ')' | 'and' | 'or' };

const TOKEN_RE = /\s*(?:(\()|(\))|'([^']*)'|"([^"]*)"|(===|==|!=|<=|>=|~=|<|>)|(not\s+in)(?![\w.])|([A-Za-z_][\w.]*))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN_RE.lastIndex = pos;
    const m = TOKEN_RE.exec(text);
    if (!m) throw badRequest(`invalid marker ${JSON.stringify(text)}: unexpected ${JSON.stringify(text.slice(pos).trim().slice(0, 20))}`);
    pos = TOKEN_RE.lastIndex;
    if (m[1]) tokens.push({ kind: '(' });
    else if (m[2]) tokens.push({ kind: ')' });
    else if (m[3] !== undefined || m[4] !== undefined) tokens.push({ kind: 'string', value: m[3] ?? m[4] });
    else if (m[5]) tokens.push({ kind: 'op', value: m[5] as MarkerOperator });
    else if (m[6]) tokens.push({ kind: 'op', value: 'not in' });
    else if (m[7] === 'and' || m[7] === 'or') tokens.push({ kind: m[7] });
    else if (m[7] === 'in') tokens.push({ kind: 'op', value: 'in' });
    else tokens.push({ kind: 'name', value: m[7] });
  }
  return tokens;
}

/** Parse a PEP 508 marker expression (`python_version >= "3.8" and extra == "test"`). */
export function parseMarker(text: string): Marker {
  const tokens = tokenize(text);
  let i = 0;
  const fail = (why: string): never => {
    throw badRequest(`invalid marker ${JSON.stringify(text.trim())}: ${why}`);
  };

  const value = (): MarkerValue => {
    const t = tokens[i++];
    if (!t) return fail('expected a variable or a quoted string at the end');
    if (t.kind === 'string') return { value: t.value };
    if (t.kind === 'name') {
      const name = ALIASES[t.value] ?? t.value;
      if (!VARIABLES.has(name)) return fail(`unknown variable ${JSON.stringify(t.value)}`);
      return { variable: name as MarkerVariable };
    }
    return fail(`expected a variable or a quoted string, got ${describe(t)}`);
  };
  const atom = (): Marker => {
    if (tokens[i]?.kind === '(') {
      i++;
      const inner = or();
      if (tokens[i]?.kind !== ')') fail('missing ")"');
      i++;
      return inner;
    }
    const lhs = value();
    const t = tokens[i++];
    if (t?.kind !== 'op') return fail(`expected a comparison operator after ${describeValue(lhs)}`);
    const rhs = value();
    return { op: 'compare', lhs, operator: t.value, rhs };
  };
  const and = (): Marker => {
    let left = atom();
    while (tokens[i]?.kind === 'and') {
      i++;
      left = { op: 'and', left, right: atom() };
    }
    return left;
  };
  const or = (): Marker => {
    let left = and();
    while (tokens[i]?.kind === 'or') {
      i++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };

  if (tokens.length === 0) fail('empty marker');
  const marker = or();
  if (i < tokens.length) fail(`unexpected ${describe(tokens[i])}`);
  return marker;
}

function describe(t: Token): string {
  return 'value' in t ? JSON.stringify(t.value) : JSON.stringify(t.kind);
}

function describeValue(v: MarkerValue): string {
  return 'variable' in v ? v.variable : JSON.stringify(v.value);
}

function quote(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

/** Canonical text: `python_version >= "3.8" and (os_name == "nt" or extra == "x")`. */
export function formatMarker(marker: Marker): string {
  const part = (m: Marker, parent: 'and' | 'or' | null): string => {
    if (m.op === 'compare') {
      const side = (v: MarkerValue) => ('variable' in v ? v.variable : quote(v.value));
      return `${side(m.lhs)} ${m.operator} ${side(m.rhs)}`;
    }
    const text = `${part(m.left, m.op)} ${m.op} ${part(m.right, m.op)}`;
    return parent === 'and' && m.op === 'or' ? `(${text})` : text;
  };
  return part(marker, null);
}

function pyCompare(a: string, op: MarkerOperator, b: string): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case 'in': return b.includes(a);
    case 'not in': return !b.includes(a);
    // `~=` and `===` have no meaning outside versions; packaging raises, we say no.
    default: return false;
  }
}

function compareValues(lhs: string, op: MarkerOperator, rhs: string): boolean {
  if (op !== 'in' && op !== 'not in') {
    let clauses = null;
    try {
      clauses = parseSpecifier(`${op}${rhs}`);
    } catch {
      // not a version comparison
    }
    if (clauses && clauses.length === 1) {
      if (op === '===' || isVersion(lhs)) return specifierContains(clauses, lhs, true);
    }
  }
  return pyCompare(lhs, op, rhs);
}

function isVersion(v: string): boolean {
  try {
    return parseSpecifier(`==${v}`).length === 1;
  } catch {
    return false;
  }
}

function evaluateWith(marker: Marker, env: MarkerEnvironment, extra: string): boolean {
  if (marker.op !== 'compare') {
    const left = evaluateWith(marker.left, env, extra);
    return marker.op === 'and' ? left && evaluateWith(marker.right, env, extra) : left || evaluateWith(marker.right, env, extra);
  }
  const read = (v: MarkerValue) => ('variable' in v ? (v.variable === 'extra' ? extra : env[v.variable]) : v.value);
  let lhs = read(marker.lhs);
  let rhs = read(marker.rhs);
  const isExtra = (v: MarkerValue) => 'variable' in v && v.variable === 'extra';
  if (isExtra(marker.lhs) || isExtra(marker.rhs)) {
    // Extras compare as normalised names (PEP 685).
    lhs = normalizeName(lhs);
    rhs = normalizeName(rhs);
  }
  return compareValues(lhs, marker.operator, rhs);
}

/**
 * Evaluate as pip does for a requirement asked with `extras`: true when the
 * marker holds with `extra` set to "" (the base requirement) or to any one of
 * the extras.
 */
export function evaluateMarker(marker: Marker, env: MarkerEnvironment, extras: readonly string[] = []): boolean {
  if (evaluateWith(marker, env, '')) return true;
  return extras.some((e) => evaluateWith(marker, env, normalizeName(e)));
}

/** Whether a marker mentions `extra` at all (a dependency only some extras pull). */
export function markerUsesExtra(marker: Marker): boolean {
  if (marker.op !== 'compare') return markerUsesExtra(marker.left) || markerUsesExtra(marker.right);
  return [marker.lhs, marker.rhs].some((v) => 'variable' in v && v.variable === 'extra');
}

/**
 * The environment pip reports on a target. platform_release and platform_version
 * depend on the machine's kernel and are left empty.
 */
export function environmentFor(target: Target): MarkerEnvironment {
  const [major, minor, patch] = pythonVersion(target);
  const full = `${major}.${minor}.${patch}`;
  const p = platformInfo(target);
  const base = {
    python_version: `${major}.${minor}`,
    python_full_version: full,
    platform_release: '',
    platform_version: '',
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    implementation_version: full,
  };
  if (p.os === 'linux') return { ...base, os_name: 'posix', sys_platform: 'linux', platform_system: 'Linux', platform_machine: p.arch };
  if (p.os === 'macos') return { ...base, os_name: 'posix', sys_platform: 'darwin', platform_system: 'Darwin', platform_machine: p.arch };
  return { ...base, os_name: 'nt', sys_platform: 'win32', platform_system: 'Windows', platform_machine: p.arch };
}
