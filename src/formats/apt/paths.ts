// Names of the APT repository's scopes and index keys, in one place.

/** The scope of a suite's signed documents (Release, InRelease, Release.gpg) and its state. */
export const suiteScope = (suite: string) => `suite:${suite}`;
export const SUITE_SCOPE_PREFIX = 'suite:';

/**
 * Index files (Packages.gz, Packages.xz, per-arch Release, Contents) are stored once each,
 * content-addressed under their by-hash SHA256 key, each in a scope of its own, so a new
 * generation adds files without rewriting the previous ones that clients may still fetch.
 */
export const contentScope = (key: string) => `content:${key}`;
export const contentScopePrefix = (suite: string) => `content:dists/${suite}/`;

/** `dists/<suite>/<dir>/by-hash/SHA256/<hex>`: where one index file's bytes live. */
export function contentKey(suite: string, rel: string, sha256: string): string {
  const slash = rel.lastIndexOf('/');
  const dir = slash < 0 ? '' : `${rel.slice(0, slash)}/`;
  return `dists/${suite}/${dir}by-hash/SHA256/${sha256}`;
}

/** The suite's generation history (JSON), never served: it lives outside `dists/`. */
export const stateKey = (suite: string) => `apt-state/${suite}`;

/** Suite names: one path segment, no `..`, as Debian spells them (`stable`, `bookworm-backports`). */
const SUITE = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;
export function isValidSuite(suite: string): boolean {
  return SUITE.test(suite) && suite.length <= 100;
}
