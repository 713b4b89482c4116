// Debian package versions: `[epoch:]upstream_version[-debian_revision]`.
// The ordering is a port of dpkg's verrevcmp (lib/dpkg/version.c); numbers are compared
// digit by digit, so versions with more digits than a double can hold still order right.
import { invalidPackage } from '../../core/errors.ts';

export interface DebVersion {
  /** Epoch as its decimal digits (`"0"` when absent), kept as a string to avoid overflow. */
  epoch: string;
  upstream: string;
  /** Debian revision; `""` when the version has no `-`. */
  revision: string;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Split a version the way dpkg does without judging its characters: the epoch is
 * what precedes the first `:` (when it is all digits), the revision follows the last `-`.
 */
function splitVersion(version: string): DebVersion {
  let rest = version.trim();
  let epoch = '0';
  const colon = rest.indexOf(':');
  if (colon >= 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: '' };
}

/** Why a version string breaks Debian policy, or `null` when it is valid. */
export function debVersionError(version: string): string | null {
  if (version.length === 0) return 'version is empty';
  if (/\s/.test(version)) return 'version contains whitespace';
  const colon = version.indexOf(':');
  let rest = version;
  if (colon >= 0) {
    const epoch = version.slice(0, colon);
    if (epoch.length === 0) return 'epoch is empty';
    if (!/^\d+$/.test(epoch)) return 'epoch is not a number';
    // dpkg stores the epoch in an int.
    if (Number(epoch) > 2147483647) return 'epoch is too big';
    rest = version.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (dash >= 0 && revision.length === 0) return 'revision is empty';
  if (upstream.length === 0) return 'upstream version is empty';
  if (!isDigit(upstream.charCodeAt(0))) return 'upstream version does not start with a digit';
  if (!/^[A-Za-z0-9.+~-]+$/.test(upstream)) return 'invalid character in upstream version';
  if (revision && !/^[A-Za-z0-9.+~]+$/.test(revision)) return 'invalid character in revision';
  return null;
}

export function isValidDebVersion(version: string): boolean {
  return debVersionError(version) === null;
}

/** Parse a policy-conforming version; throws `invalidPackage` otherwise. */
export function parseDebVersion(version: string): DebVersion {
  const why = debVersionError(version);
  if (why) throw invalidPackage(`invalid version ${JSON.stringify(version)}: ${why}`);
  return splitVersion(version);
}

/** The version without its epoch, as used in file names (`1:2.0-1` → `2.0-1`). */
export function versionWithoutEpoch(version: string): string {
  const colon = version.indexOf(':');
  return colon >= 0 && /^\d+$/.test(version.slice(0, colon)) ? version.slice(colon + 1) : version;
}

// dpkg's order(): `~` before the end of a part, the end before letters, letters before other characters.
function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126 /* ~ */) return -1;
  return c + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit prefix, compared character by character with order().
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    // Digit run, compared as a number of any length: skip leading zeros, then the longer
    // run wins, else the first differing digit decides.
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    let firstDiff = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function compareNumeric(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Compare two Debian versions as `dpkg --compare-versions` does: negative when `a`
 * sorts before `b`, 0 when equal (e.g. `1.0` and `1.0-0`), positive after. Never throws:
 * strings that break policy (as upstream indexes sometimes hold) are compared as dpkg would.
 */
export function compareDebVersions(a: string, b: string): number {
  const va = splitVersion(a);
  const vb = splitVersion(b);
  const r = compareNumeric(va.epoch, vb.epoch) || verrevcmp(va.upstream, vb.upstream) || verrevcmp(va.revision, vb.revision);
  return Math.sign(r);
}
