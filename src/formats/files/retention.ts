// Retention for hosted files repositories (docs/files.md "Retention"; docs/decisions.md). Plain
// files have no versions, so the unit is the directory: the files directly in one directory
// are the versions of one artifact, newest by upload time first.
import { badRequest } from '../../core/errors.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import { isDryRun, parseRetentionArgs, pastKeepDays, type RetentionPolicy } from '../../core/retention.ts';

export interface RetainedFile {
  path: string;
  /** Upload time (ISO 8601). */
  createdAt: string;
}

/**
 * A path glob as a matcher: `*` and `?` stay inside one path segment, `**` crosses them
 * (`releases/**`, `**\/*.sig`). Matched against the whole path.
 */
export function globMatcher(glob: string): (path: string) => boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches no directory at all.
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`, 's');
  return (path) => rx.test(path);
}

const dirOf = (path: string) => path.slice(0, path.lastIndexOf('/') + 1);

/**
 * The files retention deletes. Per directory (its files only, not those of subdirectories),
 * newest upload first (ties: path, descending): a file goes when it is not among the
 * `keepVersions` newest and is older than `keepDays`; the newest file of a directory always
 * stays. Files matching an `except` glob stay and do not count.
 */
export function selectFiles(files: RetainedFile[], policy: RetentionPolicy, now: number): RetainedFile[] {
  const excepted = policy.except.map(globMatcher);
  const byDir = new Map<string, RetainedFile[]>();
  for (const f of files) {
    if (excepted.some((m) => m(f.path))) continue;
    const d = dirOf(f.path);
    const list = byDir.get(d) ?? [];
    list.push(f);
    byDir.set(d, list);
  }
  const keep = policy.keepVersions ?? 1;
  const out: RetainedFile[] = [];
  for (const list of byDir.values()) {
    list.sort((a, b) => (a.createdAt === b.createdAt ? (a.path < b.path ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    out.push(...list.slice(keep).filter((f) => pastKeepDays(policy, f.createdAt, now)));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The `clean` action of a hosted files repository; `prefix` limits it to a subtree. */
export async function cleanFiles(ctx: RepoContext, args: Record<string, unknown>) {
  if (ctx.repo.kind !== 'hosted') throw badRequest(`clean is for hosted repositories; ${ctx.repo.name} is a ${ctx.repo.kind}`);
  const policy = parseRetentionArgs(args, { keepDays: true, except: true });
  const dryRun = isDryRun(args);
  const prefix = args.prefix === undefined ? '' : String(args.prefix).replace(/^\/+/, '');
  const rows = new Map<string, FileRow>();
  for await (const page of ctx.store.eachFile(ctx.repo.id)) for (const f of page) if (f.path.startsWith(prefix)) rows.set(f.path, f);
  const gone = selectFiles([...rows.values()].map((f) => ({ path: f.path, createdAt: f.createdAt })), policy, Date.now());
  const removed: { package: string; version: string; files: string[]; bytes: number }[] = [];
  // Every deletion marks its scopes dirty; they are published once, at the end.
  const scopes = new Set<string>();
  for (const g of gone) {
    const f = rows.get(g.path)!;
    removed.push({ package: dirOf(f.path), version: f.filename, files: [f.path], bytes: f.size });
    if (dryRun) continue;
    try {
      for (const s of await ctx.services.deleteFile(ctx.repo, f.path, { reason: 'retention', publish: false })) scopes.add(s);
    } catch (err) {
      if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
    }
  }
  if (scopes.size) await ctx.services.publish(ctx.repo, [...scopes]);
  return { dryRun, ...policy, keep: policy.keepVersions ?? null, kept: rows.size - gone.length, removed, bytes: removed.reduce((n, r) => n + r.bytes, 0) };
}
