// The `desc` and `files` entries of a sync db, byte for byte as repo-add (pacman 6.0.2)
// writes them: `%FIELD%`, one value per line, a blank line; empty fields left out; every
// run of whitespace in a value collapsed to one space (repo-add's extglob normalisation).
import { invalidPackage } from '../../core/errors.ts';
import type { PkgInfo } from './pkginfo.ts';

/** What the db needs about the package file itself; the caller computes the digests. */
export interface PackageFileInfo {
  /** The package's file name (no directory), e.g. `foo-1.0-1-x86_64.pkg.tar.zst`. */
  filename: string;
  /** Size of the package file in bytes (`%CSIZE%`). */
  csize: number;
  /** Hex MD5 of the package file. */
  md5: string;
  /** Hex SHA-256 of the package file. */
  sha256: string;
  /** Base64 of the binary detached signature (`%PGPSIG%`), when there is one. */
  pgpsig?: string;
}

/** repo-add's limit on a package signature file. */
export const MAX_PGPSIG_SIZE = 16384;

/**
 * The `%PGPSIG%` value for a detached signature: base64 on one line. Refuses, as repo-add
 * does, an ASCII-armored signature and one over 16 KiB (pacman wants binary signatures).
 */
export function encodePgpsig(signature: Uint8Array): string {
  if (signature.length > MAX_PGPSIG_SIZE) throw invalidPackage(`package signature is larger than ${MAX_PGPSIG_SIZE} bytes`);
  if (Buffer.from(signature).includes('BEGIN PGP SIGNATURE')) throw invalidPackage('package signature must be binary, not ASCII-armored');
  return Buffer.from(signature).toString('base64');
}

/** `<pkgname>-<pkgver>`: the directory of a package's entries inside the db archive. */
export function dbEntryName(info: Pick<PkgInfo, 'pkgname' | 'pkgver'>): string {
  return `${info.pkgname}-${info.pkgver}`;
}

const normalize = (value: string) => value.replace(/[ \t\n\v\f\r]+/g, ' ');

// repo-add's format_entry: the field is written when its first value is non-empty.
function field(name: string, values: ReadonlyArray<string | number | undefined>): string {
  const lines = values.filter((v) => v !== undefined).map((v) => normalize(String(v)));
  if (lines.length === 0 || lines[0] === '') return '';
  return `%${name}%\n${lines.join('\n')}\n\n`;
}

/** The `desc` entry of a package, in repo-add's field order. */
export function buildDesc(info: PkgInfo, file: PackageFileInfo): string {
  return [
    field('FILENAME', [file.filename]),
    field('NAME', [info.pkgname]),
    field('BASE', [info.pkgbase]),
    field('VERSION', [info.pkgver]),
    field('DESC', [info.pkgdesc]),
    field('GROUPS', info.groups),
    field('CSIZE', [file.csize]),
    field('ISIZE', [info.size]),
    field('MD5SUM', [file.md5]),
    field('SHA256SUM', [file.sha256]),
    field('PGPSIG', [file.pgpsig]),
    field('URL', [info.url]),
    field('LICENSE', info.licenses),
    field('ARCH', [info.arch]),
    field('BUILDDATE', [info.builddate]),
    field('PACKAGER', [info.packager]),
    field('REPLACES', info.replaces),
    field('CONFLICTS', info.conflicts),
    field('PROVIDES', info.provides),
    field('DEPENDS', info.depends),
    field('OPTDEPENDS', info.optdepends),
    field('MAKEDEPENDS', info.makedepends),
    field('CHECKDEPENDS', info.checkdepends),
  ].join('');
}

/**
 * The `files` entry of a package: `%FILES%` then one path per line. `files` is the list
 * from `readArchPackage` (already sorted and escaped as repo-add lists them).
 */
export function buildFilesEntry(files: readonly string[]): string {
  return `%FILES%\n${files.map((f) => `${f}\n`).join('')}`;
}

/**
 * Parse a `desc` or `files` entry into its fields (`NAME` → values), in the way libalpm
 * reads sync dbs: a `%FIELD%` line, then values up to the next blank line.
 */
export function parseDbEntry(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^%([A-Z0-9]+)%$/.exec(lines[i]);
    if (!m) continue;
    const values: string[] = [];
    while (i + 1 < lines.length && lines[i + 1] !== '') values.push(lines[++i]);
    fields.set(m[1], values);
  }
  return fields;
}
