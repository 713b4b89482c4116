// The one door to a metadata database: a handful of async calls that the SQLite and the
// PostgreSQL engines both implement, so the stores above them (Store, Catalog, ChangeLog,
// ProxyCacheStore) are written once. SQL text uses `?` placeholders; an engine that numbers
// its parameters rewrites them.

import { badRequest } from '../core/errors.ts';

export type Row = Record<string, unknown>;
export type Param = string | number | bigint | null | Uint8Array;

export interface RunResult {
  /** Rows the statement inserted, updated or deleted. */
  changes: number;
}

export type Dialect = 'sqlite' | 'postgres';

export interface TransactionOptions {
  /** Roll back at the end even when `fn` succeeds (a scratch build that must change nothing). */
  rollback?: boolean;
}

export interface Sql {
  readonly dialect: Dialect;
  get(sql: string, params?: readonly Param[]): Promise<Row | undefined>;
  all(sql: string, params?: readonly Param[]): Promise<Row[]>;
  run(sql: string, params?: readonly Param[]): Promise<RunResult>;
  /** Statements without parameters, separated by semicolons. */
  exec(script: string): Promise<void>;
  /**
   * Run `fn` in one transaction: every call made from `fn`'s async context (however deep)
   * joins it, and nested transactions join the outer one. Writers are serialized: nothing but
   * the database may be awaited inside, since other writers wait for the commit.
   */
  transaction<T>(fn: () => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /**
   * Run `fn` holding the lock `name` against every process on this database (PostgreSQL: a
   * session advisory lock, released by the server if the holder dies; SQLite: within this
   * process, the only one serving a data directory). Others asking for it wait. `lost` aborts
   * if the lock goes while `fn` runs (its database session ended): stop, since another may hold it.
   */
  lock<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<T>;
  /** As `lock`, but if another holds it, return `{ ran: false }` at once instead of waiting. */
  tryLock<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** Whether the caller runs inside a transaction (its rows are not committed yet). */
  inTransaction(): boolean;
  close(): Promise<void>;
}

/**
 * Refuse text holding a NUL byte (a `%00` in a URL, a field of a hostile package) as the
 * client's mistake. PostgreSQL's text cannot hold one at all; SQLite's can, but no name, path
 * or field Wharf keeps has one, and both engines must answer alike (400, not a 500 from
 * PostgreSQL or a 404 from SQLite).
 */
export function refuseNul(params: readonly Param[]): void {
  for (const p of params) {
    if (typeof p === 'string' && p.includes('\0')) throw badRequest('text with a NUL byte is not accepted');
  }
}
