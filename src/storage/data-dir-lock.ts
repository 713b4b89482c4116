// One process per data directory. The lock is an exclusive SQLite lock (fcntl) on
// <data>/wharf.lock, held for the life of the process: the kernel drops it when the process
// dies, even by kill -9, so there is no stale lock to detect and no pid to trust (a reused
// pid cannot make a dead holder look alive). Who holds it is written beside it, in
// <data>/wharf.lock.json, only to name the holder when another process is refused.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  since: string;
  /** What the holder is doing: `serve`, `fsck`... */
  command: string;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly holder: LockHolder | null;
  constructor(dir: string, holder: LockHolder | null) {
    super(holder
      ? `the data directory ${dir} is in use by pid ${holder.pid} on ${holder.host} since ${holder.since} (wharf ${holder.command}); stop it first`
      : `the data directory ${dir} is in use by another wharf process; stop it first`);
    this.holder = holder;
  }
}

export interface DataDirLock {
  readonly dir: string;
  readonly holder: LockHolder;
  release(): void;
}

/** Take the data directory's lock, or throw DataDirLockedError naming the holder. Never waits. */
export function lockDataDir(dir: string, command: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(join(dir, 'wharf.lock'));
  try {
    // In EXCLUSIVE locking mode SQLite keeps the lock of the first write until the
    // connection closes; busy_timeout 0 makes a held lock fail at once with SQLITE_BUSY.
    db.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = DELETE;');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (taken TEXT); DELETE FROM lock; INSERT INTO lock VALUES (datetime()); COMMIT;');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test((err as Error).message)) throw new DataDirLockedError(dir, readHolder(dir));
    throw err;
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
  const info = join(dir, 'wharf.lock.json');
  writeFileSync(`${info}.${process.pid}`, JSON.stringify(holder) + '\n');
  renameSync(`${info}.${process.pid}`, info);
  let released = false;
  return {
    dir,
    holder,
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

/** The holder written by the process that has the lock (null if unreadable, e.g. it is just starting). */
export function readHolder(dir: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(join(dir, 'wharf.lock.json'), 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}
