// Where Arch files live in a repository and what the published index documents are called.
// Packages are stored at `<arch>/<filename>` (an `any` package at `any/<filename>`) and
// served at `/<repo>/<arch>/<filename>` for every architecture they belong to.

/** The scope of one architecture's `.db` (and its signature). */
export const dbScope = (arch: string) => `arch:${arch}`;
/** The scope of one architecture's `.files` db: published after the `.db`, on its own. */
export const filesScope = (arch: string) => `files:${arch}`;
export const scopesOfArch = (arch: string) => [dbScope(arch), filesScope(arch)];

export type DbKind = 'db' | 'files';
export const indexKey = (arch: string, kind: DbKind, sig = false) => `${arch}/${kind}${sig ? '.sig' : ''}`;

export const packagePath = (arch: string, filename: string) => `${arch}/${filename}`;
export const signaturePath = (pkgPath: string) => `${pkgPath}.sig`;
/** The package's file list (the `files` entry text), kept as a blob of its own. */
export const fileListPath = (pkgPath: string) => `${pkgPath}.files`;

const PACKAGE_NAME = /^[^/]+-([A-Za-z0-9_]+)\.pkg\.tar(?:\.(zst|xz|gz|bz2))?$/;

/** The architecture a package file name ends with, or null when it is no package name. */
export function archOfFilename(filename: string): string | null {
  return PACKAGE_NAME.exec(filename)?.[1] ?? null;
}

/** The compression a package file name promises (`none` for `.pkg.tar`). */
export function compressionOfFilename(filename: string): string | null {
  const m = PACKAGE_NAME.exec(filename);
  if (!m) return null;
  return ({ zst: 'zstd', xz: 'xz', gz: 'gzip', bz2: 'bzip2' } as Record<string, string>)[m[2] ?? ''] ?? 'none';
}

/**
 * What a request below `/<repo>/<arch>/` names: one of the dbs (any base name, as the
 * pacman.conf section name is the user's choice) or a file.
 */
export function parseArchRequest(file: string): { kind: DbKind; sig: boolean } | { file: string } {
  const m = /^[^/]+\.(db|files)(?:\.tar\.gz)?(\.sig)?$/.exec(file);
  if (m && !/\.pkg\.tar/.test(file)) return { kind: m[1] as DbKind, sig: m[2] !== undefined };
  return { file };
}
