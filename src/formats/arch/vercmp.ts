// pacman's version order (alpm_pkg_vercmp, itself RPM's rpmvercmp), ported byte for byte
// from libalpm's version.c so that Wharf sorts and picks "newest" exactly as pacman does.
// It works on UTF-8 bytes with C-locale character classes, as the C code does: bytes
// outside ASCII are separators, never letters or digits.

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isAlnum = (c: number) => isDigit(c) || isAlpha(c);

/** Byte-wise strcmp of two ranges, returning -1, 0 or 1. */
function compareRange(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const r = Buffer.compare(a.subarray(aStart, aEnd), b.subarray(bStart, bEnd));
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

/** rpmvercmp on one component (epoch, version or release). */
function rpmvercmp(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.compare(a, b) === 0) return 0;
  // Reading past the end yields 0, like the C string's NUL terminator.
  const at = (s: Uint8Array, i: number) => (i < s.length ? s[i] : 0);

  let one = 0, two = 0; // start of the current segment
  let ptr1 = 0, ptr2 = 0; // end of the previous segment
  while (at(a, one) && at(b, two)) {
    while (at(a, one) && !isAlnum(at(a, one))) one++;
    while (at(b, two) && !isAlnum(at(b, two))) two++;
    if (!(at(a, one) && at(b, two))) break;

    // Separator runs of different length decide (e.g. 1.0..1 vs 1.0.1).
    if (one - ptr1 !== two - ptr2) return one - ptr1 < two - ptr2 ? -1 : 1;

    ptr1 = one;
    ptr2 = two;
    let isNum: boolean;
    if (isDigit(at(a, ptr1))) {
      while (at(a, ptr1) && isDigit(at(a, ptr1))) ptr1++;
      while (at(b, ptr2) && isDigit(at(b, ptr2))) ptr2++;
      isNum = true;
    } else {
      while (at(a, ptr1) && isAlpha(at(a, ptr1))) ptr1++;
      while (at(b, ptr2) && isAlpha(at(b, ptr2))) ptr2++;
      isNum = false;
    }

    // A segment of the other type (empty here) loses to a number, beats a letter.
    if (two === ptr2) return isNum ? 1 : -1;

    let s1 = one, s2 = two;
    if (isNum) {
      while (s1 < ptr1 && a[s1] === 0x30) s1++;
      while (s2 < ptr2 && b[s2] === 0x30) s2++;
      const len1 = ptr1 - s1, len2 = ptr2 - s2;
      if (len1 !== len2) return len1 > len2 ? 1 : -1;
    }
    const rc = compareRange(a, s1, ptr1, b, s2, ptr2);
    if (rc) return rc;

    one = ptr1;
    two = ptr2;
  }

  const c1 = at(a, one), c2 = at(b, two);
  if (!c1 && !c2) return 0;
  // A remaining letter segment is older than nothing ("1.0a" < "1.0"),
  // anything else remaining is newer ("1.0.1" > "1.0").
  return (!c1 && !isAlpha(c2)) || isAlpha(c1) ? -1 : 1;
}

/** libalpm's parseEVR: lenient, never fails; the release is null when there is no `-`. */
function parseEVR(evr: Uint8Array): { epoch: Uint8Array; version: Uint8Array; release: Uint8Array | null } {
  let s = 0;
  while (s < evr.length && isDigit(evr[s])) s++;
  const dash = evr.lastIndexOf(0x2d); // strrchr from s; a dash before s is impossible (digits)
  const se = dash >= s ? dash : -1;
  let epoch: Uint8Array, version: Uint8Array;
  const versionEnd = se >= 0 ? se : evr.length;
  if (s < evr.length && evr[s] === 0x3a) {
    epoch = s === 0 ? Buffer.from('0') : evr.subarray(0, s);
    version = evr.subarray(s + 1, Math.max(s + 1, versionEnd));
  } else {
    epoch = Buffer.from('0');
    version = evr.subarray(0, versionEnd);
  }
  const release = se >= 0 ? evr.subarray(se + 1) : null;
  return { epoch, version, release };
}

/**
 * Compare two pacman versions (`[epoch:]pkgver[-pkgrel]`) exactly as `vercmp`/alpm_pkg_vercmp.
 * Returns -1 when a is older, 0 when equal, 1 when a is newer. The release is compared only
 * when both sides have one, so `1.0` equals `1.0-5`.
 */
export function vercmp(a: string, b: string): number {
  if (a === b) return 0;
  const A = parseEVR(Buffer.from(a, 'utf8'));
  const B = parseEVR(Buffer.from(b, 'utf8'));
  let ret = rpmvercmp(A.epoch, B.epoch);
  if (ret === 0) {
    ret = rpmvercmp(A.version, B.version);
    if (ret === 0 && A.release && B.release) ret = rpmvercmp(A.release, B.release);
  }
  return ret;
}

/** A package's full version split into its parts. */
export interface PkgVersion {
  /** 0 when the version has no `epoch:` prefix. */
  epoch: number;
  pkgver: string;
  pkgrel: string;
}

// makepkg's lint rules: epoch digits; pkgver ASCII without `:`, `/`, `-` or whitespace;
// pkgrel `integer[.integer]`.
const FULL_VERSION = /^(?:([0-9]+):)?([\x21-\x7e]+)-([0-9]+(?:\.[0-9]+)?)$/;

/**
 * Parse a full package version `[epoch:]pkgver-pkgrel` as written in `.PKGINFO` and in
 * package file names. Returns null when it does not have the shape makepkg produces.
 */
export function parsePkgVersion(full: string): PkgVersion | null {
  const m = FULL_VERSION.exec(full);
  if (!m) return null;
  const pkgver = m[2];
  if (/[:/-]/.test(pkgver)) return null;
  const epoch = m[1] === undefined ? 0 : Number(m[1]);
  if (!Number.isSafeInteger(epoch)) return null;
  return { epoch, pkgver, pkgrel: m[3] };
}
