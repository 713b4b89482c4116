// Content types of served files, by name; anything unknown is an octet stream.
const TYPES: [RegExp, string][] = [
  [/\.whl$|\.zip$/, 'application/zip'],
  [/\.tar\.gz$|\.tgz$|\.gz$/, 'application/gzip'],
  [/\.xz$/, 'application/x-xz'],
  [/\.zst$/, 'application/zstd'],
  [/\.bz2$/, 'application/x-bzip2'],
  [/\.deb$/, 'application/vnd.debian.binary-package'],
  [/\.(asc|sig|gpg)$/, 'application/pgp-signature'],
  [/\.metadata$|\.txt$|\.md$/, 'text/plain; charset=utf-8'],
  [/\.json$/, 'application/json'],
  [/\.html?$/, 'text/html; charset=utf-8'],
  [/\.tar$/, 'application/x-tar'],
];

export function contentTypeFor(filename: string): string {
  for (const [re, type] of TYPES) if (re.test(filename)) return type;
  return 'application/octet-stream';
}
