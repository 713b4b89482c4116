// The `Packages` index of one component and architecture. Each stanza is laid out as
// dpkg-scanpackages (dpkg 1.21) writes it: known fields in dpkg's canonical order and
// spelling, with Filename, Size and the checksums in their places, then any other
// fields capitalised and sorted by name. The one addition is `SHA512` after `SHA256`,
// where apt-ftparchive puts it, so clients can use the strongest hash.
import { ControlStanza, serializeStanza } from './control.ts';
import { compareDebVersions } from './version.ts';

export interface PackagesEntry {
  /** The package's control file, as `readDeb` returns it. */
  control: ControlStanza;
  /** Path from the repository root, e.g. `pool/main/h/hello/hello_1.0-1_amd64.deb`. */
  filename: string;
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  sha512: string;
}

// Dpkg::Control::FieldsCore, CTRL_INDEX_PKG, with SHA512 added after SHA256.
const FIELD_ORDER = [
  'Package', 'Package-Type', 'Source', 'Version', 'Kernel-Version', 'Built-For-Profiles',
  'Auto-Built-Package', 'Architecture', 'Subarchitecture', 'Installer-Menu-Item',
  'Build-Essential', 'Essential', 'Protected', 'Origin', 'Bugs', 'Maintainer', 'Installed-Size',
  'Pre-Depends', 'Depends', 'Recommends', 'Suggests', 'Enhances', 'Conflicts', 'Breaks',
  'Replaces', 'Provides', 'Built-Using', 'Static-Built-Using',
  'Filename', 'Size', 'MD5sum', 'SHA1', 'SHA256', 'SHA512',
  'Section', 'Priority', 'Multi-Arch', 'Homepage', 'Description', 'Tag', 'Task',
];
const KNOWN = new Map(FIELD_ORDER.map((name, i) => [name.toLowerCase(), { name, rank: i }]));

/** dpkg's field_capitalize for fields it does not know: `x-foo_bar` → `X-Foo_bar`. */
function capitalize(name: string): string {
  return name.toLowerCase().split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
}

// Fields the repository computes; a package's own copies are replaced.
const REPOSITORY_FIELDS = ['Filename', 'Size', 'MD5sum', 'SHA1', 'SHA256', 'SHA512'];

/** The Packages stanza of one .deb, as an ordered stanza. */
export function packagesStanza(entry: PackagesEntry): ControlStanza {
  const fields = new Map<string, string>();
  for (const [name, value] of entry.control) {
    if (REPOSITORY_FIELDS.some((f) => f.toLowerCase() === name.toLowerCase())) continue;
    fields.set(KNOWN.get(name.toLowerCase())?.name ?? capitalize(name), value);
  }
  fields.set('Filename', entry.filename);
  fields.set('Size', String(entry.size));
  fields.set('MD5sum', entry.md5);
  fields.set('SHA1', entry.sha1);
  fields.set('SHA256', entry.sha256);
  fields.set('SHA512', entry.sha512);

  const names = [...fields.keys()].sort((a, b) => {
    const ra = KNOWN.get(a.toLowerCase())?.rank;
    const rb = KNOWN.get(b.toLowerCase())?.rank;
    if (ra !== undefined && rb !== undefined) return ra - rb;
    if (ra !== undefined) return -1;
    if (rb !== undefined) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return new ControlStanza(names.map((n) => [n, fields.get(n)!] as const));
}

/** One stanza's text, ending in a newline (no blank line). */
export function formatPackagesStanza(entry: PackagesEntry): string {
  return serializeStanza(packagesStanza(entry));
}

/**
 * The whole Packages file: entries sorted by package name, then by dpkg version,
 * then by file name; each stanza followed by a blank line, as dpkg-scanpackages and
 * apt-ftparchive write it. No entries give an empty file.
 */
export function buildPackagesIndex(entries: readonly PackagesEntry[]): string {
  const keyed = entries.map((e) => ({ e, name: e.control.get('Package')?.trim() ?? '', version: e.control.get('Version')?.trim() ?? '' }));
  keyed.sort((a, b) =>
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
    compareDebVersions(a.version, b.version) ||
    (a.e.filename < b.e.filename ? -1 : a.e.filename > b.e.filename ? 1 : 0));
  return keyed.map(({ e }) => `${formatPackagesStanza(e)}\n`).join('');
}
