// Reading a repo-add (or archrepo) directory: its `<name>.db.tar.*`, the packages the db
// lists with the SHA256 and signature it records, and the files beside them the db does not
// list. Pure apart from reading files.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDbEntry } from '../../formats/arch/desc.ts';
import { readRepoDb } from '../../formats/arch/db-archive.ts';

export interface ArchDbPackage {
  name: string;
  version: string;
  arch: string;
  /** The package file's name in the directory (%FILENAME%). */
  filename: string;
  sha256: string;
  /** The detached signature the db carries (%PGPSIG%, base64), if any. */
  pgpsig?: string;
}

export interface ArchDbDir {
  dir: string;
  /** The db's base name: `<name>.db.tar.*`, as pacman.conf's section names it. */
  name: string;
  dbFile: string;
  packages: ArchDbPackage[];
  /** Files in the directory that are neither the db's nor a listed package or its .sig. */
  unlisted: string[];
}

const DB_FILE = /^(.+)\.db\.tar(?:\.(?:gz|xz|zst|bz2))?$/;
/** repo-add's own files: the dbs, their links, signatures and .old copies. */
const DB_OWN = /\.(?:db|files)(?:\.tar(?:\.(?:gz|xz|zst|bz2))?)?(?:\.sig)?(?:\.old)?(?:\.sig)?$/;

export async function readArchDbDir(dir: string, only?: string): Promise<ArchDbDir> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name).sort();
  const dbs = names.map((n) => DB_FILE.exec(n)).filter((m): m is RegExpExecArray => m !== null).filter((m) => !only || m[1] === only);
  if (dbs.length === 0) throw new Error(`${dir} has no ${only ? `${only}.db.tar.*` : '<name>.db.tar.*'} (repo-add's database)`);
  const distinct = [...new Set(dbs.map((m) => m[1]))];
  if (distinct.length > 1) throw new Error(`${dir} has several databases (${distinct.join(', ')}): choose one with --db`);
  const [m] = dbs;
  const entries = await readRepoDb(await readFile(join(dir, m[0])));
  const packages: ArchDbPackage[] = [];
  for (const { desc } of entries.values()) {
    const f = parseDbEntry(desc);
    const one = (k: string) => f.get(k)?.[0] ?? '';
    const p: ArchDbPackage = { name: one('NAME'), version: one('VERSION'), arch: one('ARCH'), filename: one('FILENAME'), sha256: one('SHA256SUM').toLowerCase() };
    if (f.get('PGPSIG')?.[0]) p.pgpsig = f.get('PGPSIG')![0];
    packages.push(p);
  }
  packages.sort((a, b) => a.filename.localeCompare(b.filename));
  const listed = new Set(packages.flatMap((p) => [p.filename, `${p.filename}.sig`]));
  const unlisted = names.filter((n) => !listed.has(n) && !DB_OWN.test(n));
  return { dir, name: m[1], dbFile: m[0], packages, unlisted };
}
