// The sync db archives pacman downloads: `<repo>.db` (a `desc` per package) and
// `<repo>.files` (`desc` and `files`), each a gzip-compressed ustar archive holding one
// directory `<pkgname>-<pkgver>/` per package, like repo-add's `bsdtar -cf - * | gzip`.
// Headers are deterministic (mtime 0, root:root, 0755/0644), so equal input gives equal bytes.
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalidPackage } from '../../core/errors.ts';
import { collect, compressBuffer, createDecompressor, detectCompression } from '../../lib/compression.ts';

/** One package of a db: its entry directory name and the entry texts. */
export interface RepoDbEntry {
  /** `<pkgname>-<pkgver>`, see `dbEntryName`. */
  name: string;
  /** The `desc` text, see `buildDesc`. */
  desc: string;
  /** The `files` text, see `buildFilesEntry`; required when building with `withFiles`. */
  files?: string;
}

export interface BuildRepoDbOptions {
  /** Build the `.files` db (each directory also holds `files`) instead of the `.db`. */
  withFiles: boolean;
}

const ENTRY_NAME = /^[^/\0]+$/;

/**
 * Build a gzip-compressed db archive. Entries are written in byte order of their names.
 * Throws (a programming error, not a client one) on a duplicate or malformed entry name,
 * or on a missing `files` text when `withFiles` is set: pacman calls a db with two
 * versions of one package inconsistent, so callers must pass one version per name.
 */
export async function buildRepoDb(entries: Iterable<RepoDbEntry>, options: BuildRepoDbOptions): Promise<Buffer> {
  const list = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (!ENTRY_NAME.test(e.name) || e.name === '.' || e.name === '..') throw new Error(`invalid db entry name ${JSON.stringify(e.name)}`);
    if (i > 0 && list[i - 1].name === e.name) throw new Error(`duplicate db entry ${e.name}`);
    if (options.withFiles && e.files === undefined) throw new Error(`db entry ${e.name} has no files list`);
  }

  const pack = tar.pack();
  const tarball = collect(Readable.from(pack));
  const common = { mtime: new Date(0), uid: 0, gid: 0, uname: 'root', gname: 'root' };
  for (const e of list) {
    pack.entry({ ...common, name: `${e.name}/`, type: 'directory', mode: 0o755 });
    pack.entry({ ...common, name: `${e.name}/desc`, type: 'file', mode: 0o644 }, e.desc);
    if (options.withFiles) pack.entry({ ...common, name: `${e.name}/files`, type: 'file', mode: 0o644 }, e.files ?? '');
  }
  pack.finalize();
  return compressBuffer('gzip', await tarball);
}

/**
 * Read a db archive (`.db` or `.files`, gzip/zstd/xz/bzip2 or plain tar) into its entries,
 * keyed by directory name (`<pkgname>-<pkgver>`). Other files are ignored, as pacman does.
 * Throws `invalidPackage` when the bytes are not such an archive.
 */
export async function readRepoDb(data: Uint8Array): Promise<Map<string, { desc: string; files?: string }>> {
  const result = new Map<string, { desc: string; files?: string }>();
  const compression = detectCompression(data.subarray(0, 6));
  const extract = tar.extract();
  const source = Readable.from([Buffer.from(data)]);
  const decompressor = createDecompressor(compression);
  source.pipe(decompressor).pipe(extract);
  const fail = (err: Error) => extract.destroy(err);
  source.on('error', fail);
  decompressor.on('error', fail);

  const partial = new Map<string, { desc?: string; files?: string }>();
  try {
    for await (const entry of extract) {
      const m = /^(?:\.\/)?([^/]+)\/(desc|files)$/.exec(entry.header.name);
      if (!m || entry.header.type !== 'file') {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer); // tar-stream yields Buffers
      const text = Buffer.concat(chunks).toString('utf8');
      const slot = partial.get(m[1]) ?? {};
      slot[m[2] as 'desc' | 'files'] = text;
      partial.set(m[1], slot);
    }
  } catch (err) {
    source.destroy();
    decompressor.destroy();
    throw invalidPackage(`not a pacman repository database: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const [name, slot] of partial) {
    if (slot.desc === undefined) throw invalidPackage(`pacman repository database entry ${name} has no desc`);
    result.set(name, slot.files === undefined ? { desc: slot.desc } : { desc: slot.desc, files: slot.files });
  }
  return result;
}
