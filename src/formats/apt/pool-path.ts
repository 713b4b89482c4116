// Where a .deb lives in the repository: the Debian archive's pool layout, which
// reprepro and dak share, so a Wharf repository can be mirrored by the usual tools.
import { WharfError } from '../../core/errors.ts';
import type { ControlStanza } from './control.ts';
import { versionWithoutEpoch } from './version.ts';

/** Debian policy 5.6.1: lower-case letters, digits, `+ - .`, at least two characters. */
export const DEB_PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
/** Architecture names (`amd64`, `all`, `armhf`, `kfreebsd-i386`...). */
export const DEB_ARCHITECTURE = /^[a-z0-9][a-z0-9-]*$/;
/**
 * A component is one path segment (`main`, `non-free-firmware`): it names a directory of the
 * pool and of `dists/<suite>/`, so `/` (from a URL's `%2f` once decoded) and `..` are refused.
 */
const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export function isValidComponent(component: string): boolean {
  return COMPONENT.test(component) && component.length <= 100;
}

/**
 * The source package a binary was built from: the `Source` field's name without its
 * optional ` (version)` suffix, or the binary package's own name.
 */
export function sourceName(fields: ControlStanza): string {
  const source = fields.get('Source')?.trim();
  const name = source ? source.replace(/\s*\(.*\)\s*$/, '') : fields.get('Package')?.trim() ?? '';
  return name;
}

/** The pool's directory prefix: `libf` for `libfoo`, otherwise the first letter. */
export function poolPrefix(source: string): string {
  return source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
}

/** The canonical file name `<name>_<version without epoch>_<arch>.deb`. */
export function debFilename(name: string, version: string, arch: string): string {
  return `${name}_${versionWithoutEpoch(version)}_${arch}.deb`;
}

/**
 * `pool/<component>/<prefix>/<source>/<name>_<version-without-epoch>_<arch>.deb`.
 * Throws `INVALID_NAME` for values that could escape the pool (they are checked
 * by `readDeb` already; this is the last guard before a path is made).
 */
export function poolPath(component: string, source: string, name: string, version: string, arch: string): string {
  const bad = (what: string, value: string) => new WharfError('INVALID_NAME', `invalid ${what} for a pool path: ${JSON.stringify(value)}`);
  if (!isValidComponent(component)) throw bad('component', component);
  if (!DEB_PACKAGE_NAME.test(source)) throw bad('source name', source);
  if (!DEB_PACKAGE_NAME.test(name)) throw bad('package name', name);
  if (!DEB_ARCHITECTURE.test(arch)) throw bad('architecture', arch);
  const v = versionWithoutEpoch(version);
  if (!/^[A-Za-z0-9.+~-]+$/.test(v)) throw bad('version', version);
  return `pool/${component}/${poolPrefix(source)}/${source}/${debFilename(name, version, arch)}`;
}
