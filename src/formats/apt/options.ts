// Repository options of an APT repository, validated once when a repository is created or
// changed. Per-suite settings (`suites.<name>`) fill the Release header; the Codename of a
// suite is fixed once the suite is published (see suite-build.ts), because apt refuses a
// repository whose Codename changed.
import { badRequest } from '../../core/errors.ts';
import { normalizeRetentionOption, type RetentionOption } from '../../core/retention.ts';
import { DEB_ARCHITECTURE, isValidComponent } from './pool-path.ts';
import { isValidSuite } from './paths.ts';

export interface SuiteSettings {
  codename?: string;
  origin?: string;
  label?: string;
  description?: string;
  /** Components listed even while empty. */
  components?: string[];
  /** Architectures listed even while no package has them. */
  architectures?: string[];
}

export interface AptOptions {
  origin?: string;
  label?: string;
  /** Used when an upload names no suite or component. */
  defaultSuite: string;
  defaultComponent: string;
  /** Architectures every suite lists (default: those of its packages, or amd64 when it has none). */
  architectures: string[];
  /** Publish `<component>/Contents-<arch>.gz` (for apt-file). */
  contents: boolean;
  /** Previous index generations stay fetchable by hash for this long (seconds)... */
  byHashGraceSeconds: number;
  /** ...and at least this many of them are kept regardless of age. */
  byHashGenerations: number;
  suites: Record<string, SuiteSettings>;
  /** A scheduled `clean` (keepVersions per package, suite, component, architecture). */
  retention?: RetentionOption;
}

const line = (what: string, v: unknown): string => {
  if (typeof v !== 'string' || v === '' || /[\r\n]/.test(v) || v.length > 200) throw badRequest(`${what} must be a one-line string`);
  return v;
};
const list = (what: string, v: unknown, valid: (s: string) => boolean): string[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !valid(x))) throw badRequest(`${what} must be a list of valid names`);
  return [...new Set(v as string[])];
};
const isArch = (a: string) => DEB_ARCHITECTURE.test(a) && a !== 'all' && a !== 'any';
const int = (what: string, v: unknown, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badRequest(`${what} must be a whole number from ${min} to ${max}`);
  return v;
};

export function normalizeAptOptions(options: Record<string, unknown>): AptOptions {
  const known = new Set(['origin', 'label', 'defaultSuite', 'defaultComponent', 'architectures', 'contents', 'byHashGraceSeconds', 'byHashGenerations', 'suites', 'retention']);
  for (const k of Object.keys(options)) if (!known.has(k)) throw badRequest(`unknown apt option ${JSON.stringify(k)}`);
  const out: AptOptions = {
    defaultSuite: 'stable', defaultComponent: 'main', architectures: [], contents: false,
    byHashGraceSeconds: 3600, byHashGenerations: 3, suites: {},
  };
  if (options.origin !== undefined) out.origin = line('origin', options.origin);
  if (options.label !== undefined) out.label = line('label', options.label);
  if (options.defaultSuite !== undefined) {
    if (typeof options.defaultSuite !== 'string' || !isValidSuite(options.defaultSuite)) throw badRequest('defaultSuite is not a valid suite name');
    out.defaultSuite = options.defaultSuite;
  }
  if (options.defaultComponent !== undefined) {
    if (typeof options.defaultComponent !== 'string' || !isValidComponent(options.defaultComponent)) throw badRequest('defaultComponent is not a valid component name');
    out.defaultComponent = options.defaultComponent;
  }
  if (options.architectures !== undefined) out.architectures = list('architectures', options.architectures, isArch);
  if (options.contents !== undefined) {
    if (typeof options.contents !== 'boolean') throw badRequest('contents must be true or false');
    out.contents = options.contents;
  }
  if (options.byHashGraceSeconds !== undefined) out.byHashGraceSeconds = int('byHashGraceSeconds', options.byHashGraceSeconds, 0, 30 * 86400);
  if (options.byHashGenerations !== undefined) out.byHashGenerations = int('byHashGenerations', options.byHashGenerations, 1, 50);
  const retention = normalizeRetentionOption(options.retention, { keepDays: false, except: false });
  if (retention) out.retention = retention;
  if (options.suites !== undefined) {
    if (!options.suites || typeof options.suites !== 'object' || Array.isArray(options.suites)) throw badRequest('suites must be an object: suite name → settings');
    for (const [name, raw] of Object.entries(options.suites as Record<string, unknown>)) {
      if (!isValidSuite(name)) throw badRequest(`invalid suite name ${JSON.stringify(name)}`);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest(`suites.${name} must be an object`);
      const s = raw as Record<string, unknown>;
      const knownSuite = new Set(['codename', 'origin', 'label', 'description', 'components', 'architectures']);
      for (const k of Object.keys(s)) if (!knownSuite.has(k)) throw badRequest(`unknown option suites.${name}.${k}`);
      const settings: SuiteSettings = {};
      if (s.codename !== undefined) {
        if (typeof s.codename !== 'string' || !isValidSuite(s.codename)) throw badRequest(`suites.${name}.codename is not a valid name`);
        settings.codename = s.codename;
      }
      for (const k of ['origin', 'label', 'description'] as const) if (s[k] !== undefined) settings[k] = line(`suites.${name}.${k}`, s[k]);
      if (s.components !== undefined) settings.components = list(`suites.${name}.components`, s.components, isValidComponent);
      if (s.architectures !== undefined) settings.architectures = list(`suites.${name}.architectures`, s.architectures, isArch);
      out.suites[name] = settings;
    }
  }
  return out;
}

/** The options of a stored repository (already normalized when saved). */
export function aptOptions(options: Record<string, unknown>): AptOptions {
  return normalizeAptOptions(options);
}
