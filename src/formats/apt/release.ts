// The `Release` file of a suite (signed into InRelease and Release.gpg) and the small
// per-architecture `Release` files beside each Packages. Header fields follow dpkg's
// canonical order for Release files, which is also Debian's archive layout.
import { serializeStanza } from './control.ts';

export interface ReleaseFile {
  /** Path relative to `dists/<suite>/`, e.g. `main/binary-amd64/Packages.xz`. */
  path: string;
  size: number;
  md5: string;
  /** Optional: SHA1 is ignored by current apt; listed only when every file has it. */
  sha1?: string;
  sha256: string;
  sha512: string;
}

export interface ReleaseOptions {
  origin: string;
  label: string;
  suite: string;
  codename: string;
  /** `Version:` (e.g. a point release); omitted when absent. */
  version?: string;
  date: Date;
  validUntil?: Date;
  /** `NotAutomatic: yes` (and `ButAutomaticUpgrades: yes`), as for backports/experimental. */
  notAutomatic?: boolean;
  butAutomaticUpgrades?: boolean;
  /** Write `Acquire-By-Hash: yes`; the server must then serve `by-hash/<Hash>/<hex>` paths. */
  acquireByHash?: boolean;
  architectures: readonly string[];
  components: readonly string[];
  description?: string;
  /** `Signed-By:` fingerprints (apt ≥ 2.3 pins the suite to them). */
  signedBy?: readonly string[];
  files: readonly ReleaseFile[];
}

/** RFC 2822 in UTC as Debian's archive writes it: `Sat, 21 Nov 2026 10:00:00 UTC`. */
export function formatReleaseDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new TypeError('invalid date');
  return date.toUTCString().replace(/GMT$/, 'UTC');
}

function checksumSection(title: string, files: readonly ReleaseFile[], hash: (f: ReleaseFile) => string): string {
  // Sizes are right-aligned to the widest one so the columns line up (apt splits on whitespace).
  const width = Math.max(...files.map((f) => String(f.size).length));
  return `${title}:\n${files.map((f) => ` ${hash(f)} ${String(f.size).padStart(width)} ${f.path}\n`).join('')}`;
}

const oneLine = (what: string, value: string) => {
  if (/[\r\n]/.test(value)) throw new TypeError(`${what} must be a single line`);
  return value;
};

/** The Release file's text. Files are listed sorted by path. */
export function buildRelease(options: ReleaseOptions): string {
  const header: [string, string][] = [
    ['Origin', oneLine('origin', options.origin)],
    ['Label', oneLine('label', options.label)],
    ['Suite', oneLine('suite', options.suite)],
  ];
  if (options.version !== undefined) header.push(['Version', oneLine('version', options.version)]);
  header.push(['Codename', oneLine('codename', options.codename)]);
  header.push(['Date', formatReleaseDate(options.date)]);
  if (options.validUntil) header.push(['Valid-Until', formatReleaseDate(options.validUntil)]);
  if (options.notAutomatic) header.push(['NotAutomatic', 'yes']);
  if (options.butAutomaticUpgrades) header.push(['ButAutomaticUpgrades', 'yes']);
  if (options.acquireByHash) header.push(['Acquire-By-Hash', 'yes']);
  header.push(['Architectures', options.architectures.join(' ')]);
  header.push(['Components', options.components.join(' ')]);
  if (options.description !== undefined) header.push(['Description', oneLine('description', options.description)]);
  if (options.signedBy?.length) header.push(['Signed-By', options.signedBy.join(', ')]);

  let out = serializeStanza(header);
  const files = [...options.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of files) {
    if (/\s/.test(f.path) || f.path.startsWith('/')) throw new TypeError(`invalid Release path ${JSON.stringify(f.path)}`);
  }
  if (files.length === 0) return out;
  out += checksumSection('MD5Sum', files, (f) => f.md5);
  if (files.every((f) => f.sha1)) out += checksumSection('SHA1', files, (f) => f.sha1!);
  out += checksumSection('SHA256', files, (f) => f.sha256);
  out += checksumSection('SHA512', files, (f) => f.sha512);
  return out;
}

export interface ArchReleaseOptions {
  /** The suite (`Archive:` holds the suite name, as in Debian). */
  archive: string;
  origin: string;
  label: string;
  version?: string;
  acquireByHash?: boolean;
  component: string;
  architecture: string;
  description?: string;
}

/** The `<component>/binary-<arch>/Release` file (apt pins by it; Debian still ships it). */
export function buildArchRelease(options: ArchReleaseOptions): string {
  const fields: [string, string][] = [
    ['Archive', oneLine('archive', options.archive)],
    ['Origin', oneLine('origin', options.origin)],
    ['Label', oneLine('label', options.label)],
  ];
  if (options.version !== undefined) fields.push(['Version', oneLine('version', options.version)]);
  if (options.acquireByHash) fields.push(['Acquire-By-Hash', 'yes']);
  fields.push(['Component', oneLine('component', options.component)]);
  fields.push(['Architecture', oneLine('architecture', options.architecture)]);
  if (options.description !== undefined) fields.push(['Description', oneLine('description', options.description)]);
  return serializeStanza(fields);
}

export interface SuiteIndexOptions {
  components: readonly string[];
  architectures: readonly string[];
  /** Include `<component>/Contents-<arch>.gz`. */
  contents?: boolean;
}

/**
 * The index files of one suite that the Release file must list, relative to
 * `dists/<suite>/`: per component and architecture `binary-<arch>/Packages`, `.gz`,
 * `.xz` and `binary-<arch>/Release`, and optionally `Contents-<arch>.gz`.
 */
export function suiteIndexPaths(options: SuiteIndexOptions): string[] {
  const paths: string[] = [];
  for (const component of options.components) {
    for (const arch of options.architectures) {
      const dir = `${component}/binary-${arch}`;
      paths.push(`${dir}/Packages`, `${dir}/Packages.gz`, `${dir}/Packages.xz`, `${dir}/Release`);
      if (options.contents) paths.push(`${component}/Contents-${arch}.gz`);
    }
  }
  return paths;
}
