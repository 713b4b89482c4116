// The cooldown (minAge, src/core/cooldown.ts) on PyPI proxy and group pages: a file's age is
// its upstream's PEP 700 upload time, else the time this proxy first saw it listed
// (`UpstreamFile.firstSeen`, kept in the cached page across refreshes and restarts).
import { cooldownOf, cooldownsFor, strictest, tooYoung, visibleFrom, type Cooldown } from '../../core/cooldown.ts';
import type { Repository } from '../../core/model.ts';
import { normalizeName } from './names.ts';
import type { SimpleFile } from './simple-types.ts';

/** The cooldown `repo` serves `project` under, given those of the groups it is reached through. */
export function projectCooldown(repo: Repository, outer: readonly Cooldown[], project: string): Cooldown | null {
  return strictest(cooldownsFor([cooldownOf(repo), ...outer], project, normalizeName));
}

export interface Cooled<T> {
  files: T[];
  hidden: number;
  /** When the next hidden file shows (ms; Infinity when none is hidden). */
  nextVisible: number;
}

/** The files old enough to list. */
export function coolFiles<T>(files: T[], cooldown: Cooldown | null, timeOf: (f: T) => string | null | undefined, now = Date.now()): Cooled<T> {
  if (!cooldown) return { files, hidden: 0, nextVisible: Infinity };
  const kept: T[] = [];
  let nextVisible = Infinity;
  for (const f of files) {
    const t = timeOf(f);
    if (tooYoung(cooldown, t, now)) nextVisible = Math.min(nextVisible, visibleFrom(cooldown, t, now));
    else kept.push(f);
  }
  return { files: kept, hidden: files.length - kept.length, nextVisible };
}

export const simpleFileTime = (f: SimpleFile) => f.uploadTime || null;

type ApiFile = { filename?: string; upload_time_iso_8601?: string; upload_time?: string };
type ApiDoc = { urls?: ApiFile[]; releases?: Record<string, ApiFile[]> };

/**
 * PyPI's JSON API document without the files too young to serve. A file's time is the
 * document's own, else the simple page's (`pageTimes`, by filename). A release the cooldown
 * empties is left out; `info` (the upstream's newest release) is passed on as it is.
 */
export function coolJsonApi(doc: ApiDoc, cooldown: Cooldown, pageTimes: Map<string, string>, now = Date.now()): void {
  const timeOf = (f: ApiFile) =>
    f.upload_time_iso_8601 ?? (f.upload_time ? `${f.upload_time}Z` : undefined) ?? (f.filename ? pageTimes.get(f.filename) : undefined);
  if (doc.urls) doc.urls = coolFiles(doc.urls, cooldown, timeOf, now).files;
  if (doc.releases) {
    for (const [version, files] of Object.entries(doc.releases)) {
      const kept = coolFiles(files, cooldown, timeOf, now).files;
      if (files.length && !kept.length) delete doc.releases[version];
      else doc.releases[version] = kept;
    }
  }
}
