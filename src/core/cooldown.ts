// Cooldown (minimum age) of proxy and group repositories: upstream files younger than
// `minAge` are listed nowhere and not served, so a freshly published malicious release never
// reaches a client before someone catches it. `minAgeExempt` names projects/packages let
// through at once (an urgent fix). Hosted repositories, and a group's hosted members, are exempt.
import { badRequest, WharfError } from './errors.ts';

export const COOLDOWN_OPTION_KEYS = ['minAge', 'minAgeExempt'] as const;

export interface Cooldown {
  /** Minimum age, milliseconds (more than 0). */
  minAgeMs: number;
  /** What `minAge` was given as (e.g. "7d"), for messages. */
  minAge: string;
  /** Names exempt from the cooldown, as the repository stores them. */
  exempt: readonly string[];
  /** The repository whose option this is. */
  repo: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+[smhdw])+$/;
const MAX_MS = 3650 * 86_400_000;

/** "7d", "36h", "1d12h", "90m", "30s", "2w" in milliseconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (!DURATION.test(t)) return null;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit];
  return Number.isSafeInteger(ms) ? ms : null;
}

/** The cooldown options out of what an operator gave (absent or "0": no cooldown). */
export function normalizeCooldownOptions(options: Record<string, unknown>): { minAge?: string; minAgeExempt?: string[] } {
  const out: { minAge?: string; minAgeExempt?: string[] } = {};
  const { minAge, minAgeExempt } = options;
  if (minAge !== undefined && minAge !== null && minAge !== '' && minAge !== 0 && minAge !== '0') {
    const ms = typeof minAge === 'string' ? parseDuration(minAge) : null;
    if (ms === null || ms <= 0 || ms > MAX_MS) {
      throw badRequest(`minAge must be a duration such as "7d", "36h" or "1d12h" (units s, m, h, d, w; at most 3650d), not ${JSON.stringify(minAge)}`);
    }
    out.minAge = (minAge as string).trim().toLowerCase();
  }
  if (minAgeExempt !== undefined && minAgeExempt !== null) {
    if (!Array.isArray(minAgeExempt) || !minAgeExempt.every((n) => typeof n === 'string' && n.trim() !== '' && n.length <= 300)) {
      throw badRequest('minAgeExempt must be a list of project or package names');
    }
    out.minAgeExempt = minAgeExempt.map((n: string) => n.trim());
  }
  return out;
}

/** A repository's cooldown; null when it has none. */
export function cooldownOf(repo: { name: string; kind: string; options: Record<string, unknown> }): Cooldown | null {
  if (repo.kind === 'hosted') return null;
  const options = repo.options;
  const minAge = options.minAge;
  if (typeof minAge !== 'string') return null;
  const ms = parseDuration(minAge);
  if (!ms) return null;
  const exempt = Array.isArray(options.minAgeExempt) ? (options.minAgeExempt as string[]) : [];
  return { minAgeMs: ms, minAge, exempt, repo: repo.name };
}

/**
 * The cooldowns that apply to one project: those whose exemptions do not name it.
 * `normalize` is the format's name rule (PyPI compares normalized names).
 */
export function cooldownsFor(cooldowns: readonly (Cooldown | null)[], name: string, normalize: (n: string) => string = (n) => n): Cooldown[] {
  const key = normalize(name);
  return cooldowns.filter((c): c is Cooldown => c !== null && !c.exempt.some((e) => normalize(e) === key));
}

/** The cooldowns that apply to a file at `path`: those whose exemptions name neither it nor a directory above it. */
export function cooldownsForPath(cooldowns: readonly (Cooldown | null)[], path: string): Cooldown[] {
  const covers = (e: string) => path === e || path.startsWith(e.endsWith('/') ? e : `${e}/`);
  return cooldowns.filter((c): c is Cooldown => c !== null && !c.exempt.some((e) => covers(e.replace(/^\/+/, ''))));
}

/** The longest of the cooldowns that apply (null when none does). */
export function strictest(cooldowns: readonly Cooldown[]): Cooldown | null {
  let best: Cooldown | null = null;
  for (const c of cooldowns) if (!best || c.minAgeMs > best.minAgeMs) best = c;
  return best;
}

/**
 * When a file of this age shows (ms since the epoch): its time plus the minimum age. A file
 * without a known time is taken as seen now: the cooldown never lets an unknown age through.
 */
export function visibleFrom(cooldown: Cooldown, time: string | number | null | undefined, now = Date.now()): number {
  const t = typeof time === 'number' ? time : time ? Date.parse(time) : NaN;
  return (Number.isFinite(t) ? t : now) + cooldown.minAgeMs;
}

export const tooYoung = (cooldown: Cooldown | null, time: string | number | null | undefined, now = Date.now()): boolean =>
  cooldown !== null && visibleFrom(cooldown, time, now) > now;

/** A download refused by the cooldown: a 404 (to the client the file is not there yet) that says why. */
export const tooYoungError = (name: string, cooldown: Cooldown) =>
  new WharfError('TOO_YOUNG', `${name} is younger than ${cooldown.repo}'s minAge (${cooldown.minAge}): it is served once it is that old`);

/**
 * When an APT or Arch proxy, which goes by first sight (its upstream's indexes carry no
 * upload time), counts the packages its upstream already lists at its first read of an index:
 * "initial" (the default) as seen long ago, so a new proxy serves what the upstream had then
 * at once and only later additions wait; "now" as seen then, so everything waits minAge (an
 * upstream already compromised at that read is held back too). docs/proxy-and-groups.md.
 */
export type MinAgeBaseline = 'initial' | 'now';
export const MIN_AGE_BASELINES: readonly MinAgeBaseline[] = ['initial', 'now'];

/** The `minAgeBaseline` option out of what an operator gave (absent: the default). */
export function normalizeMinAgeBaseline(v: unknown): { minAgeBaseline?: MinAgeBaseline } {
  if (v === undefined || v === null) return {};
  if (!MIN_AGE_BASELINES.includes(v as MinAgeBaseline)) throw badRequest(`minAgeBaseline must be "initial" or "now", not ${JSON.stringify(v)}`);
  return { minAgeBaseline: v as MinAgeBaseline };
}

export const minAgeBaselineOf = (repo: { options: Record<string, unknown> }): MinAgeBaseline => (repo.options.minAgeBaseline === 'now' ? 'now' : 'initial');
