// `Contents-<arch>` indexes (read by apt-file): one line per path, the path left-aligned
// in a 55-column field as Debian's archive (dak) writes it, then the comma-separated
// `section/package` names that ship it. No header, sorted by path.

export interface ContentsEntry {
  /** The package's Section (`utils`, `contrib/net`...); omitted → just the package name. */
  section?: string;
  name: string;
  /** Paths as `readDeb` lists them (no leading `./` or `/`). */
  files: readonly string[];
}

export function buildContents(entries: readonly ContentsEntry[]): string {
  const byPath = new Map<string, Set<string>>();
  for (const entry of entries) {
    const section = entry.section?.trim();
    const qualified = section ? `${section}/${entry.name}` : entry.name;
    for (const raw of entry.files) {
      const path = raw.replace(/^(\.?\/)+/, '');
      // A newline would break the line format; such a path cannot be listed.
      if (path === '' || /[\r\n]/.test(path)) continue;
      let owners = byPath.get(path);
      if (!owners) byPath.set(path, (owners = new Set()));
      owners.add(qualified);
    }
  }
  const paths = [...byPath.keys()].sort(byteOrder);
  return paths.map((path) => `${path.padEnd(55)} ${[...byPath.get(path)!].sort(byteOrder).join(',')}\n`).join('');
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
