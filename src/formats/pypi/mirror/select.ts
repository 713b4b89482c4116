// Which files of one project a mirror keeps for one specifier: the versions pip
// could pick (PEP 440 with its pre-release rule), optionally only the newest N,
// and per version the files some target can install (tags, Requires-Python,
// yanked state per PEP 592).
import { badRequest } from '../../../core/errors.ts';
import { parseDistFilename, type DistFilename } from '../filename.ts';
import { compareVersions, isValidVersion } from '../version.ts';
import { filterVersions, isPinned, parseSpecifier, specifierContains, type SpecifierClause } from './specifier.ts';
import { wheelSupported } from './tags.ts';
import { pythonVersion, type Target } from './target.ts';

export interface CandidateFile {
  filename: string;
  url: string;
  sha256: string | null;
  requiresPython: string | null;
  yanked: boolean;
  coreMetadataUrl?: string | null;
  size?: number;
}

export interface ProjectFiles {
  name: string;
  files: CandidateFile[];
}

export interface SelectSpec {
  specifier: string;
  prereleases: boolean;
  /** Keep only the newest N matching versions. */
  latest?: number;
  targets: Target[];
  /** Include sdists (they install anywhere pip can build them). */
  sdists: boolean;
  /** true keeps yanked files; by default they are kept only when pinned with == or ===. */
  yanked?: boolean;
}

export interface SelectedVersion {
  /** As the files spell it (first file seen). */
  version: string;
  files: CandidateFile[];
}

/**
 * pip's Requires-Python check: the target's `X.Y.Z` against the file's specifier;
 * an invalid specifier is ignored, as pip does.
 */
export function requiresPythonAllows(requiresPython: string | null, target: Target): boolean {
  if (requiresPython === null || requiresPython.trim() === '') return true;
  let clauses: SpecifierClause[];
  try {
    clauses = parseSpecifier(requiresPython);
  } catch {
    return true;
  }
  return specifierContains(clauses, pythonVersion(target).join('.'), true);
}

/** Whether pip on `target` could use this file (yanked state aside). */
export function fileUsable(file: CandidateFile, dist: DistFilename, target: Target, sdists: boolean): boolean {
  if (dist.kind === 'sdist' ? !sdists : !wheelSupported(dist, target)) return false;
  return requiresPythonAllows(file.requiresPython, target);
}

function parseOrNull(filename: string, project: string): DistFilename | null {
  try {
    return parseDistFilename(filename, project);
  } catch {
    return null;
  }
}

/**
 * The versions (newest first) whose files some target can install, each with
 * those files. Files whose names do not parse, or whose version is not PEP 440
 * (unless named by `===`), are skipped.
 */
export function selectFiles(project: ProjectFiles, spec: SelectSpec): SelectedVersion[] {
  const clauses = parseSpecifier(spec.specifier);
  if (spec.latest !== undefined && (!Number.isInteger(spec.latest) || spec.latest < 1)) {
    throw badRequest(`latest must be a positive integer, got ${spec.latest}`);
  }
  const keepYanked = spec.yanked === true || isPinned(clauses);

  // Usable files grouped by PEP 440 version: 1.1 and 1.1.0 are one version.
  const entries: SelectedVersion[] = [];
  const byRaw = new Map<string, SelectedVersion>();
  const entryFor = (version: string): SelectedVersion => {
    let entry = byRaw.get(version) ?? entries.find((e) => compareVersions(e.version, version) === 0 && isValidVersion(version));
    if (!entry) entries.push((entry = { version, files: [] }));
    byRaw.set(version, entry);
    return entry;
  };
  for (const file of project.files) {
    if (file.yanked && !keepYanked) continue;
    const dist = parseOrNull(file.filename, project.name);
    if (!dist) continue;
    if (!spec.targets.some((t) => fileUsable(file, dist, t, spec.sdists))) continue;
    entryFor(dist.version).files.push(file);
  }

  // The pre-release fallback looks only at versions with usable files, as pip's finder does.
  const versions = filterVersions(entries.map((e) => e.version), clauses, spec.prereleases);
  versions.sort((a, b) => compareVersions(b, a));
  const kept = spec.latest === undefined ? versions : versions.slice(0, spec.latest);
  return kept.map((v) => byRaw.get(v)!);
}
