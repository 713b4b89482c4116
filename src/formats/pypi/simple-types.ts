// The data behind a simple index page (PEP 503/691), shared by the HTML and JSON
// renderers and the JSON API, plus the ordering both must agree on.
import { parseDistFilename } from './filename.ts';
import { normalizeName } from './names.ts';
import type { ProjectStatus } from './project-status.ts';
import { compareVersions, sortVersions } from './version.ts';

export interface SimpleFile {
  filename: string;
  /** Relative or absolute, without a fragment. */
  url: string;
  sha256: string;
  size: number;
  /**
   * ISO 8601, UTC (PEP 700): when the file was uploaded here (hosted), to the upstream when it
   * says so, else when Wharf first saw it listed (proxies); '' when unknown.
   */
  uploadTime: string;
  requiresPython: string | null;
  /** sha256 of the served `.metadata` file (PEP 658/714), null when none is served. */
  coreMetadataSha256: string | null;
  yanked: boolean;
  yankedReason: string | null;
  /** The file's version; parsed from the filename when absent. */
  version?: string;
}

export interface SimpleProjectPage {
  /** The normalized project name. */
  name: string;
  files: SimpleFile[];
  /** PEP 700 list of versions. */
  versions: string[];
  /** PEP 792; active when absent. */
  status?: ProjectStatus;
}

export interface SimpleRootEntry {
  /** Normalized or display name; links always use the normalized form. */
  name: string;
}

// 1.1: PEP 700 (`versions`, `size`, `upload-time`); 1.4: PEP 792 (`project-status`).
export const REPOSITORY_API_VERSION = '1.4';

function fileVersion(f: SimpleFile): string {
  if (f.version !== undefined) return f.version;
  try {
    return parseDistFilename(f.filename).version;
  } catch {
    return '';
  }
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Files by PEP 440 version, then filename: the order pages list them in. */
export function sortFiles<T extends SimpleFile>(files: readonly T[]): T[] {
  const keyed = files.map((f) => ({ f, v: fileVersion(f) }));
  keyed.sort((a, b) => compareVersions(a.v, b.v) || byString(a.f.filename, b.f.filename));
  return keyed.map((k) => k.f);
}

/** Projects by normalized name, then name as given. */
export function sortRootEntries<T extends SimpleRootEntry>(projects: readonly T[]): T[] {
  return [...projects].sort((a, b) => byString(normalizeName(a.name), normalizeName(b.name)) || byString(a.name, b.name));
}

/** Versions deduplicated and in PEP 440 order. */
export function pageVersions(versions: readonly string[]): string[] {
  return sortVersions([...new Set(versions)]);
}

/** PEP 700's form: `yyyy-mm-ddThh:mm:ss[.f…]Z`. */
const PEP700_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * An ISO 8601 UTC timestamp as PEP 700 writes it; a zone-less time (as SQLite writes it) is
 * taken as UTC. A time already in that form is kept as given (an upstream's microseconds
 * stay); '' for no time or one that is not a time.
 */
export function toIsoUtc(time: string): string {
  let s = time.trim();
  if (PEP700_TIME.test(s)) return s;
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s = s.replace(' ', 'T') + 'Z';
  const d = s === '' ? new Date(NaN) : new Date(s);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
