// The `.PKGINFO` file at the root of every pacman package: `key = value` lines written by
// makepkg, read here the way libalpm reads it (split at the first `=`, trim both sides,
// the last value wins for single fields) and validated with makepkg's lint rules.
import { invalidPackage } from '../../core/errors.ts';
import { parsePkgVersion } from './vercmp.ts';

/** The metadata of one package, as declared in its `.PKGINFO`. */
export interface PkgInfo {
  pkgname: string;
  /** The split-package base; makepkg always writes it, older packages may not. */
  pkgbase?: string;
  /** The full version `[epoch:]pkgver-pkgrel`. */
  pkgver: string;
  pkgdesc?: string;
  url?: string;
  /** Seconds since the epoch. */
  builddate?: number;
  packager?: string;
  /** Installed size in bytes (the db's `%ISIZE%`). */
  size?: number;
  arch: string;
  // Repeated keys, in file order; the .PKGINFO key is named in each comment.
  /** `license` */
  licenses: string[];
  /** `group` */
  groups: string[];
  /** `depend` */
  depends: string[];
  /** `optdepend` */
  optdepends: string[];
  /** `makedepend` */
  makedepends: string[];
  /** `checkdepend` */
  checkdepends: string[];
  /** `provides` */
  provides: string[];
  /** `conflict` (makepkg's spelling; `conflicts` is not a .PKGINFO key) */
  conflicts: string[];
  /** `replaces` */
  replaces: string[];
  /** `backup` */
  backup: string[];
  /** `xdata`, e.g. `pkgtype=pkg` */
  xdata: string[];
  /** Every other key (e.g. `makepkgopt`, `basever`), values in file order. */
  other: Record<string, string[]>;
}

type ListField = 'licenses' | 'groups' | 'depends' | 'optdepends' | 'makedepends' | 'checkdepends'
  | 'provides' | 'conflicts' | 'replaces' | 'backup' | 'xdata';

const LIST_KEYS: Record<string, ListField> = {
  license: 'licenses', group: 'groups', depend: 'depends', optdepend: 'optdepends',
  makedepend: 'makedepends', checkdepend: 'checkdepends', provides: 'provides',
  conflict: 'conflicts', replaces: 'replaces', backup: 'backup', xdata: 'xdata',
};
const TEXT_KEYS = new Set(['pkgname', 'pkgbase', 'pkgver', 'pkgdesc', 'url', 'packager', 'arch']);
const NUMBER_KEYS = new Set(['builddate', 'size']);

// makepkg's lint_pkgname: ASCII letters, digits and `@._+-`, not starting with `-` or `.`.
// makepkg accepts upper case, so Wharf does too (Arch's own repos use lower case only).
const PKGNAME = /^[A-Za-z0-9@_+][A-Za-z0-9@._+-]*$/;
// makepkg's lint_arch: letters, digits and `_` (it also ends up in URLs as `$arch`).
const ARCH = /^[A-Za-z0-9_]+$/;

/** Whether `name` is a valid pacman package name (makepkg's rules). */
export function isValidPkgName(name: string): boolean {
  return PKGNAME.test(name);
}

/**
 * Parse and validate a `.PKGINFO`. Blank lines and `#` comments are skipped; every other
 * line must be `key = value`. Empty values of repeated keys are dropped (repo-add would
 * write a blank line that ends the db field early). Throws `invalidPackage` when pkgname,
 * pkgver or arch is missing or malformed, or a number field is not a number.
 */
export function parsePkginfo(text: string): PkgInfo {
  const single = new Map<string, string>();
  const info: Omit<PkgInfo, 'pkgname' | 'pkgver' | 'arch'> = {
    licenses: [], groups: [], depends: [], optdepends: [], makedepends: [], checkdepends: [],
    provides: [], conflicts: [], replaces: [], backup: [], xdata: [], other: {},
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw invalidPackage(`.PKGINFO line ${i + 1} is not "key = value": ${JSON.stringify(truncate(line))}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === '') throw invalidPackage(`.PKGINFO line ${i + 1} has no key`);
    if (Object.hasOwn(LIST_KEYS, key)) {
      if (value !== '') info[LIST_KEYS[key]].push(value);
    } else if (TEXT_KEYS.has(key) || NUMBER_KEYS.has(key)) {
      single.set(key, value); // the last one wins, as in libalpm and repo-add
    } else {
      // defineProperty: a key such as `__proto__` must stay a plain property.
      if (!Object.hasOwn(info.other, key)) Object.defineProperty(info.other, key, { value: [], enumerable: true, writable: true, configurable: true });
      info.other[key].push(value);
    }
  }

  const pkgname = single.get('pkgname') ?? '';
  if (pkgname === '') throw invalidPackage('.PKGINFO has no pkgname');
  if (!PKGNAME.test(pkgname)) throw invalidPackage(`invalid pkgname ${JSON.stringify(truncate(pkgname))}: use letters, digits and @._+- and do not start with - or .`);
  const pkgbase = single.get('pkgbase') || undefined;
  if (pkgbase !== undefined && !PKGNAME.test(pkgbase)) throw invalidPackage(`invalid pkgbase ${JSON.stringify(truncate(pkgbase))}`);

  const pkgver = single.get('pkgver') ?? '';
  if (pkgver === '') throw invalidPackage('.PKGINFO has no pkgver');
  if (parsePkgVersion(pkgver) === null) {
    throw invalidPackage(`invalid pkgver ${JSON.stringify(truncate(pkgver))}: expected [epoch:]pkgver-pkgrel, pkgver without ':', '/', '-' or spaces and pkgrel like 1 or 1.1`);
  }

  const arch = single.get('arch') ?? '';
  if (arch === '') throw invalidPackage('.PKGINFO has no arch');
  if (!ARCH.test(arch)) throw invalidPackage(`invalid arch ${JSON.stringify(truncate(arch))}`);

  const result: PkgInfo = { pkgname, pkgver, arch, ...info };
  if (pkgbase !== undefined) result.pkgbase = pkgbase;
  for (const key of ['pkgdesc', 'url', 'packager'] as const) {
    const value = single.get(key);
    if (value) result[key] = value;
  }
  for (const key of ['builddate', 'size'] as const) {
    const value = single.get(key);
    if (!value) continue;
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n)) throw invalidPackage(`.PKGINFO ${key} is not a whole number: ${JSON.stringify(truncate(value))}`);
    result[key] = n;
  }
  return result;
}

/** `<pkgname>-<pkgver>-<arch>`: a package file's name without `.pkg.tar.*`, as makepkg names it. */
export function packageStem(info: Pick<PkgInfo, 'pkgname' | 'pkgver' | 'arch'>): string {
  return `${info.pkgname}-${info.pkgver}-${info.arch}`;
}

// The extensions makepkg can give a package (PKGEXT); Wharf reads the first four.
const PACKAGE_EXTENSION = /^\.pkg\.tar(?:\.(?:zst|xz|gz|bz2|lz4|lrz|lzo|lz|Z))?$/;

/**
 * Whether `filename` is the name makepkg gives the package described by `info`:
 * `<pkgname>-<pkgver>-<arch>.pkg.tar[.ext]`. Used to refuse uploads named for another package.
 */
export function isPackageFilenameFor(filename: string, info: Pick<PkgInfo, 'pkgname' | 'pkgver' | 'arch'>): boolean {
  const stem = packageStem(info);
  return filename.startsWith(stem) && PACKAGE_EXTENSION.test(filename.slice(stem.length));
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
