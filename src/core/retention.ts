// Retention shared by every hosted format: the `clean` action's arguments and the `retention`
// repository option that runs it on a schedule. Which rows go is each format's pure selection
// (formats/<name>/retention.ts); deletions go through the core's delete paths, so indexes, the
// static tree and the change feed follow, and each is an audit entry with reason "retention".
import { badRequest } from './errors.ts';
import type { Repository } from './model.ts';

/** What the `clean` action is asked (by hand, or by the schedule from the `retention` option). */
export interface RetentionPolicy {
  /** Keep the N newest versions of each package (files: the N newest files of each directory). */
  keepVersions?: number;
  /** Keep whatever is younger than this many days (the newest version is kept whatever its age). */
  keepDays?: number;
  /** Never pruned: package names, `project==version` pins (PyPI), path globs (files). */
  except: string[];
}

/** The `retention` repository option: the policy and how often the server applies it. */
export interface RetentionOption {
  keepVersions?: number;
  keepDays?: number;
  except?: string[];
  everyMinutes: number;
}

const DAY_MS = 86_400_000;

function count(v: unknown, name: string, min: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw badRequest(`${name} must be a whole number of ${min} or more`);
  return n;
}

function days(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw badRequest('keepDays must be a number of days, 0 or more');
  return n;
}

function exceptions(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x.trim() !== '' && x.length <= 1000)) {
    throw badRequest('except must be a list of non-empty strings (package names, "project==version" pins, path globs)');
  }
  if (list.length > 10_000) throw badRequest('except takes at most 10000 entries');
  return list.map((x: string) => x.trim());
}

/**
 * The policy of a `clean` request. `keep` is the older name of `keepVersions` (APT and Arch
 * `clean`, `wharf clean --keep`). At least one limit must be given: a clean without one would
 * delete everything but the newest version, a surprise for a typo.
 */
export function parseRetentionArgs(args: Record<string, unknown>, allowed: { keepDays: boolean; except: boolean }): RetentionPolicy {
  if (args.keep !== undefined && args.keepVersions !== undefined && Number(args.keep) !== Number(args.keepVersions)) {
    throw badRequest('give "keepVersions" or its older name "keep", not both');
  }
  const keepVersions = count(args.keepVersions ?? args.keep, 'keepVersions', 1);
  const keepDays = days(args.keepDays);
  const except = exceptions(args.except);
  if (!allowed.keepDays && keepDays !== undefined) throw badRequest('keepDays is not supported by this format\'s clean; give keepVersions');
  if (!allowed.except && except.length) throw badRequest('except is not supported by this format\'s clean');
  if (keepVersions === undefined && keepDays === undefined) throw badRequest('give "keepVersions" (how many versions of each package to keep, 1 or more) and/or "keepDays"');
  return { ...(keepVersions !== undefined ? { keepVersions } : {}), ...(keepDays !== undefined ? { keepDays } : {}), except };
}

/** `dryRun` (or `dry_run`): list what would go, delete nothing. */
export const isDryRun = (args: Record<string, unknown>) => args.dryRun === true || args.dry_run === true;

/** Validate the `retention` repository option (hosted repositories); undefined when unset. */
export function normalizeRetentionOption(v: unknown, allowed: { keepDays: boolean; except: boolean }): RetentionOption | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('retention must be an object: {"keepVersions": N, "keepDays": D, "except": [...], "everyMinutes": M}');
  const o = v as Record<string, unknown>;
  const known = new Set(['keepVersions', 'keepDays', 'except', 'everyMinutes']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw badRequest(`unknown retention field ${JSON.stringify(k)}; known: ${[...known].join(', ')}`);
  const policy = parseRetentionArgs(o, allowed);
  const everyMinutes = count(o.everyMinutes ?? 1440, 'retention.everyMinutes', 1)!;
  const { except, ...limits } = policy;
  return { ...limits, ...(except.length ? { except } : {}), everyMinutes };
}

/** The scheduled `clean` a hosted repository's `retention` option asks for, or null. */
export function retentionSchedule(repo: Repository): { action: string; args: Record<string, unknown>; everyMinutes: number } | null {
  const r = repo.kind === 'hosted' ? (repo.options.retention as RetentionOption | undefined) : undefined;
  if (!r) return null;
  const { everyMinutes, ...policy } = r;
  return { action: 'clean', args: { ...policy }, everyMinutes };
}

/** Older than the policy's `keepDays` at `now` (false when it has none). */
export function pastKeepDays(policy: RetentionPolicy, createdAt: string, now: number): boolean {
  if (policy.keepDays === undefined) return true;
  const t = Date.parse(createdAt);
  return Number.isFinite(t) && now - t > policy.keepDays * DAY_MS;
}
