// Distribution filenames: wheels (PEP 427/491, binary distribution format) and
// sdists (PEP 625, plus legacy `{name-with-dashes}-{version}` archives). The
// filename is checked as untrusted input first: it becomes a storage path and a URL.
import { invalidPackage } from '../../core/errors.ts';
import { isValidProjectName, normalizeName } from './names.ts';
import { isValidVersion } from './version.ts';

export type DistExt = '.whl' | '.tar.gz' | '.zip' | '.tar.bz2' | '.tgz';

export interface DistFilename {
  kind: 'wheel' | 'sdist';
  /** The name as spelled in the filename. */
  name: string;
  normalizedName: string;
  /** The version as spelled in the filename. */
  version: string;
  ext: DistExt;
  buildTag?: string;
  pythonTag?: string;
  abiTag?: string;
  platformTag?: string;
  packagetype: 'bdist_wheel' | 'sdist';
  /** `source` for sdists, the python tag for wheels (as twine sends `pyversion`). */
  pyversion: string;
}

// Longest first so `.tar.gz` wins over a bare `.gz` style match.
const SDIST_EXTS: DistExt[] = ['.tar.gz', '.tar.bz2', '.tgz', '.zip'];
const TAG_RE = /^[A-Za-z0-9_.]+$/;
const BUILD_TAG_RE = /^[0-9][A-Za-z0-9_.]*$/;

/** Refuse anything that could escape a directory or confuse a URL or a log line. */
export function assertSafeFilename(filename: string): void {
  if (filename.length === 0) throw invalidPackage('empty filename');
  if (Buffer.byteLength(filename, 'utf8') > 255) throw invalidPackage('filename is longer than 255 bytes');
  if (filename.includes('/') || filename.includes('\\')) throw invalidPackage(`filename must not contain a path separator: ${JSON.stringify(filename)}`);
  if (filename.includes('..')) throw invalidPackage(`filename must not contain "..": ${JSON.stringify(filename)}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(filename)) throw invalidPackage(`filename contains control characters: ${JSON.stringify(filename)}`);
  if (filename.startsWith('.')) throw invalidPackage(`filename must not start with ".": ${JSON.stringify(filename)}`);
}

/**
 * Parse a wheel or sdist filename. `expectedName` (e.g. the `name` field of an
 * upload) settles the legacy sdist case where both `a-b-1.0` splits are valid.
 */
export function parseDistFilename(filename: string, expectedName?: string): DistFilename {
  assertSafeFilename(filename);
  if (/\s/.test(filename)) throw invalidPackage(`filename must not contain whitespace: ${JSON.stringify(filename)}`);
  if (filename.endsWith('.whl')) return parseWheel(filename);
  const ext = SDIST_EXTS.find((e) => filename.endsWith(e));
  if (!ext) {
    throw invalidPackage(`unsupported file extension: ${JSON.stringify(filename)} (expected .whl, .tar.gz, .zip, .tar.bz2 or .tgz)`);
  }
  return parseSdist(filename, ext, expectedName);
}

function parseWheel(filename: string): DistFilename {
  const stem = filename.slice(0, -'.whl'.length);
  const parts = stem.split('-');
  if (parts.length !== 5 && parts.length !== 6) {
    throw invalidPackage(`invalid wheel filename ${JSON.stringify(filename)}: expected {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl, got ${parts.length} dash-separated parts`);
  }
  const [name, version] = parts;
  const buildTag = parts.length === 6 ? parts[2] : undefined;
  const [pythonTag, abiTag, platformTag] = parts.slice(-3);
  if (!isValidProjectName(name)) throw invalidPackage(`invalid project name in wheel filename: ${JSON.stringify(name)}`);
  if (!isValidVersion(version)) throw invalidPackage(`invalid PEP 440 version in wheel filename: ${JSON.stringify(version)}`);
  if (buildTag !== undefined && !BUILD_TAG_RE.test(buildTag)) throw invalidPackage(`invalid build tag in wheel filename: ${JSON.stringify(buildTag)} (must start with a digit)`);
  for (const [what, tag] of [['python', pythonTag], ['abi', abiTag], ['platform', platformTag]]) {
    if (!TAG_RE.test(tag)) throw invalidPackage(`invalid ${what} tag in wheel filename: ${JSON.stringify(tag)}`);
  }
  return {
    kind: 'wheel', name, normalizedName: normalizeName(name), version, ext: '.whl',
    ...(buildTag !== undefined ? { buildTag } : {}),
    pythonTag, abiTag, platformTag,
    packagetype: 'bdist_wheel', pyversion: pythonTag,
  };
}

function parseSdist(filename: string, ext: DistExt, expectedName?: string): DistFilename {
  const stem = filename.slice(0, -ext.length);
  // Every dash is a candidate split; keep those with a valid name and version.
  const splits: { name: string; version: string }[] = [];
  for (let i = stem.indexOf('-'); i !== -1; i = stem.indexOf('-', i + 1)) {
    const name = stem.slice(0, i);
    const version = stem.slice(i + 1);
    if (isValidProjectName(name) && isValidVersion(version)) splits.push({ name, version });
  }
  if (splits.length === 0) {
    if (!stem.includes('-')) throw invalidPackage(`invalid sdist filename ${JSON.stringify(filename)}: expected {name}-{version}${ext}`);
    throw invalidPackage(`invalid sdist filename ${JSON.stringify(filename)}: no valid project name and PEP 440 version`);
  }
  const wanted = expectedName === undefined ? undefined : normalizeName(expectedName);
  // Without a hint, the shortest name wins: versions like `1.0-1` (a post
  // release) are likelier than project names with a version-like last part.
  const chosen = splits.find((s) => normalizeName(s.name) === wanted) ?? splits[0];
  return {
    kind: 'sdist', name: chosen.name, normalizedName: normalizeName(chosen.name), version: chosen.version, ext,
    packagetype: 'sdist', pyversion: 'source',
  };
}
