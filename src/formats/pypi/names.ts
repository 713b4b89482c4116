// Project names as PyPI compares them: PEP 503 normalisation and the core metadata
// name rule (PEP 508), so `Foo.Bar`, `foo_bar` and `FOO--bar` are one project.

const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** PEP 503: runs of `-`, `_`, `.` become one `-`, then lowercase. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** A valid core metadata `Name` (ASCII letters/digits, `._-` inside only). */
export function isValidProjectName(name: string): boolean {
  return NAME_RE.test(name);
}

/** The name as wheel and PEP 625 sdist filenames spell it: normalised, `_` for `-`. */
export function escapeDistName(name: string): string {
  return name.replace(/[-_.]+/g, '_').toLowerCase();
}
