// `wharf backup DIR`: an online, consistent copy of a running server's data, made by the
// server itself. The database is copied with SQLite's backup API (a snapshot as of the end
// of the copy, taken by the live connection, so writes made meanwhile are in it); then every
// blob the COPIED database names is copied (or hard-linked: blobs are never rewritten) from
// the live store. Blobs are committed before the rows that name them, so each one exists;
// the caller keeps gc from freeing any until the copy is done. The result is a data
// directory that `wharf serve --data DIR` starts on and `wharf fsck` passes.
import { constants, createWriteStream } from 'node:fs';
import { chmod, copyFile, link, mkdir, open, readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { backup as sqliteBackup, DatabaseSync } from 'node:sqlite';
import { pipeline } from 'node:stream/promises';
import type { Sql } from '../db/sql.ts';
import { SqliteSql } from '../db/sqlite-sql.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { badRequest, conflict } from './errors.ts';

export interface BackupResult {
  dir: string;
  files: number;
  blobs: number;
  bytes: number;
  /** Blobs hard-linked rather than copied (same filesystem). */
  linked: number;
  durationMs: number;
}

export interface BackupOptions {
  /** Hard-link blobs when the target is on the same filesystem (default true). */
  link?: boolean;
}

/**
 * The path with every symlink resolved, also where its tail does not exist yet: the deepest
 * existing ancestor's real path plus the rest.
 */
async function realPathOf(path: string): Promise<string> {
  const rest: string[] = [];
  let at = path;
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || dirname(at) === at) throw err;
      rest.push(basename(at));
      at = dirname(at);
    }
  }
}

/**
 * Check the target: an absolute path outside the data directory, absent or empty. Compared
 * after resolving symlinks on both sides, so a link in the path cannot lead the copy into the
 * data directory (into blobs/tmp, which the next start empties, or beside the live database).
 * The directory is made readable by its owner only: the database holds password hashes and
 * the repositories' private signing keys.
 */
export async function prepareBackupDir(dir: string, dataDir: string): Promise<string> {
  if (!isAbsolute(dir)) throw badRequest('the backup directory must be an absolute path on the server');
  const target = resolve(dir);
  const inside = (t: string, d: string) => {
    const rel = relative(d, t);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  const realData = await realPathOf(resolve(dataDir));
  const realTarget = await realPathOf(target).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOTDIR' ? badRequest(`${target} lies below a file`) : err;
  });
  if (inside(target, resolve(dataDir)) || inside(realTarget, realData)) throw badRequest('the backup directory cannot be inside the data directory');
  const entries = await readdir(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    if (err.code === 'ENOTDIR') throw badRequest(`${target} is not a directory`);
    throw err;
  });
  if (entries && entries.length) throw conflict(`${target} is not empty: back up into a new or empty directory`);
  // An empty directory someone else made (in /tmp, say) stays theirs: they could read the
  // copy or swap its files before a restore.
  const uid = process.getuid?.();
  if (entries && uid !== undefined && (await stat(target)).uid !== uid) throw badRequest(`${target} belongs to another user: back up into a new directory, or one of the server's user`);
  await mkdir(target, { recursive: true, mode: 0o700 });
  await chmod(target, 0o700);
  return target;
}

export async function backupData(sql: Sql, blobs: BlobStore, target: string, opts: BackupOptions = {}): Promise<BackupResult> {
  // SQLite's online backup API; another engine is backed up with its own tools.
  if (!(sql instanceof SqliteSql)) throw badRequest(`wharf backup copies an embedded SQLite database; back up this ${sql.dialect} database with its own tools`);
  const started = Date.now();
  const dbCopy = join(target, 'wharf.db');
  await sqliteBackup(sql.db, dbCopy);
  await chmod(dbCopy, 0o600);
  await fsyncPath(dbCopy);
  const copy = new DatabaseSync(dbCopy);
  const result: BackupResult = { dir: target, files: 0, blobs: 0, bytes: 0, linked: 0, durationMs: 0 };
  try {
    result.files = Number((copy.prepare('SELECT COUNT(*) AS n FROM files').get() as { n: number }).n);
    // Blobs no file names are garbage gc would free: not copied, and their rows dropped. A
    // file's past state kept for time travel (file_history) names its blob too.
    copy.exec(`DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = blobs.sha256)
      AND NOT EXISTS (SELECT 1 FROM file_history h WHERE h.sha256 = blobs.sha256)`);
    let tryLink = opts.link !== false;
    const dirs = new Set<string>();
    for (const row of copy.prepare('SELECT sha256, size FROM blobs ORDER BY sha256').iterate() as Iterable<{ sha256: string; size: number }>) {
      const dest = join(target, 'blobs', row.sha256.slice(0, 2), row.sha256.slice(2, 4), row.sha256);
      if (!dirs.has(dirname(dest))) {
        await mkdir(dirname(dest), { recursive: true });
        dirs.add(dirname(dest));
      }
      const src = blobs.localPath(row.sha256);
      let linked = false;
      if (src && tryLink) {
        try {
          await link(src, dest);
          linked = true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missing(row.sha256);
          // Another filesystem (EXDEV) or no links there: copy instead, from now on.
          tryLink = false;
        }
      }
      if (linked) result.linked++;
      else {
        try {
          if (src) await copyFile(src, dest, constants.COPYFILE_FICLONE);
          else await pipeline(blobs.open(row.sha256), createWriteStream(dest, { flags: 'wx' }));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw code === 'ENOENT' || code === 'BLOB_MISSING' ? missing(row.sha256) : err;
        }
        await fsyncPath(dest);
      }
      result.blobs++;
      result.bytes += row.size;
    }
    copy.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    copy.close();
  }
  await mkdir(join(target, 'blobs', 'tmp'), { recursive: true });
  for (const d of await dirsToSync(target)) await fsyncPath(d);
  result.durationMs = Date.now() - started;
  return result;
}

function missing(sha256: string): Error {
  return new Error(`blob ${sha256} is named by a file but missing from the live store; run wharf fsck`);
}

async function dirsToSync(target: string): Promise<string[]> {
  const out = [target, join(target, 'blobs')];
  for (const a of await readdir(join(target, 'blobs')).catch(() => [] as string[])) {
    if (a === 'tmp') continue;
    out.push(join(target, 'blobs', a));
    for (const b of await readdir(join(target, 'blobs', a)).catch(() => [] as string[])) out.push(join(target, 'blobs', a, b));
  }
  return out;
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Empty a backup that failed half way, so nobody restores it. */
export async function discardBackup(target: string): Promise<void> {
  for (const e of await readdir(target).catch(() => [] as string[])) await rm(join(target, e), { recursive: true, force: true });
}
