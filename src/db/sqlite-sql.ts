// The embedded engine: node:sqlite behind the async Sql door. Statements run synchronously
// (SQLite answers in microseconds from the page cache); the promises only give both engines
// one shape. One connection serves the whole process, so while a transaction is open every
// call from outside its async context waits for the commit: a request's read can never see,
// or its write land in, another request's unfinished transaction.
import { AsyncLocalStorage } from 'node:async_hooks';
import { constants, copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { migrations } from './migrations.ts';
import { refuseNul, type Param, type Row, type RunResult, type Sql, type TransactionOptions } from './sql.ts';

/** The database was written by a newer Wharf: opening it with this one could corrupt it. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

interface OpenTransaction {
  readonly token: symbol;
  readonly done: Promise<void>;
}

export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  /** The connection itself, for what only SQLite has (online backup, integrity checks). */
  readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly context = new AsyncLocalStorage<symbol>();
  private open: OpenTransaction | null = null;
  /** Named locks held in this process (Sql.lock), by the work holding them. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  get(sql: string, params: readonly Param[] = []): Promise<Row | undefined> {
    return this.when(() => this.stmt(sql, params).get(...params) as Row | undefined);
  }

  all(sql: string, params: readonly Param[] = []): Promise<Row[]> {
    return this.when(() => this.stmt(sql, params).all(...params) as Row[]);
  }

  run(sql: string, params: readonly Param[] = []): Promise<RunResult> {
    return this.when(() => ({ changes: Number(this.stmt(sql, params).run(...params).changes) }));
  }

  exec(script: string): Promise<void> {
    return this.when(() => this.db.exec(script));
  }

  async transaction<T>(fn: () => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    if (this.mayRun() && this.open) return fn();
    while (this.open) await this.open.done;
    let release!: () => void;
    const tx: OpenTransaction = { token: Symbol('transaction'), done: new Promise<void>((r) => { release = r; }) };
    this.db.exec(opts.rollback ? 'BEGIN' : 'BEGIN IMMEDIATE');
    this.open = tx;
    try {
      const result = await this.context.run(tx.token, fn);
      this.db.exec(opts.rollback ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    } finally {
      this.open = null;
      release();
    }
  }

  async lock<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<T> {
    for (let held = this.locks.get(name); held; held = this.locks.get(name)) await held.catch(() => {});
    return this.hold(name, fn);
  }

  async tryLock<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    if (this.locks.has(name)) return { ran: false };
    return { ran: true, value: await this.hold(name, fn) };
  }

  private async hold<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<T> {
    // A lock within the process cannot be lost.
    const run = fn(new AbortController().signal);
    this.locks.set(name, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === run) this.locks.delete(name);
    }
  }

  inTransaction(): boolean {
    return this.open !== null && this.context.getStore() === this.open.token;
  }

  async close(): Promise<void> {
    while (this.open) await this.open.done;
    if (this.db.isOpen) this.db.close();
  }

  /** Outside a transaction, or inside the open one. */
  private mayRun(): boolean {
    return this.open === null || this.context.getStore() === this.open.token;
  }

  private when<T>(work: () => T): Promise<T> {
    if (!this.mayRun()) return this.open!.done.then(() => this.when(work));
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private stmt(sql: string, params: readonly Param[]): StatementSync {
    refuseNul(params);
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

/** Open (creating) the embedded database and bring its schema up to date. */
export function openSqlite(file: string): SqliteSql {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  // WAL lets readers go on while one writer commits; NORMAL sync is durable at checkpoints
  // and safe against corruption; blobs are fsynced on their own before rows name them.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return new SqliteSql(db);
}

/**
 * Open an existing database only to read it (`wharf migrate`'s source), leaving every byte of
 * its files as it was: no migration, no write, and no file created or touched beside it.
 * Without a write-ahead log the file is opened immutable (SQLite then creates no -shm or -wal
 * either). A log left by a server that stopped without a checkpoint holds committed rows, and
 * reading it would rewrite the -shm index beside it: then `wharf.db` and its log are copied
 * into `scratch` (a directory of the caller's) and the copy is read.
 */
export function openSqliteReadOnly(file: string, scratch?: string): SqliteSql {
  if (!existsSync(file)) throw new Error(`${file}: no such database`);
  const wal = statSync(`${file}-wal`, { throwIfNoEntry: false });
  if (wal && wal.size > 0) {
    if (!scratch) throw new Error(`${file} has a write-ahead log: give a scratch directory to read a copy`);
    const copy = join(scratch, basename(file));
    copyFileSync(file, copy, constants.COPYFILE_FICLONE);
    copyFileSync(`${file}-wal`, `${copy}-wal`, constants.COPYFILE_FICLONE);
    return new SqliteSql(new DatabaseSync(copy, { readOnly: true }));
  }
  const location = pathToFileURL(file);
  location.searchParams.set('mode', 'ro');
  location.searchParams.set('immutable', '1');
  return new SqliteSql(new DatabaseSync(location, { readOnly: true }));
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (row.user_version > migrations.length) {
    db.close();
    throw new SchemaTooNewError(`the database is at schema version ${row.user_version}, newer than this Wharf knows (${migrations.length}): `
      + 'a newer Wharf wrote it; run that version, or restore the backup made before the upgrade');
  }
  for (let v = row.user_version; v < migrations.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(migrations[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
}
