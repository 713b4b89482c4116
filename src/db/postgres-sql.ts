// PostgreSQL behind the async Sql door (issue 11): a connection pool, `?` placeholders
// numbered for the server, and transactions that follow their async context like SQLite's.
// Write transactions take one advisory lock, so writers are serialized across every replica
// exactly as SQLite serializes them within one file: a duplicate check inside a transaction
// sees every write committed before it, and the change feed's sequence follows commit order
// (see the repo_changes trigger in migrations-postgres.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { postgresMigrations } from './migrations-postgres.ts';
import { SchemaTooNewError } from './sqlite-sql.ts';
import { refuseNul, type Param, type Row, type RunResult, type Sql, type TransactionOptions } from './sql.ts';

/** The advisory lock every writing transaction holds until it ends (pg_advisory_xact_lock). */
export const WRITER_LOCK = 0x77686172; // "whar"
/** Held while migrating, so replicas starting together migrate once. */
const MIGRATION_LOCK = 0x77686173;

// int8 (counts, sums, ids, sizes) and numeric arrive as strings by default: every value Wharf
// keeps is below 2^53, so numbers are exact.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** `?` becomes `$1`, `$2`, … outside string literals and quoted names. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * An open transaction: its connection, and the last query sent on it. A connection runs one
 * query at a time, so queries a transaction issues at once (a Promise.all) are sent in turn
 * (node-postgres would queue them itself, deprecated, and refuses it from pg@9).
 */
interface OpenTransaction {
  client: pg.PoolClient;
  tail: Promise<unknown>;
}

/** A lock name as the two 32-bit keys of pg_advisory_lock: the first 8 bytes of its SHA-256. */
export function lockKey(name: string): [number, number] {
  const h = createHash('sha256').update(`wharf:${name}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

export class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly context = new AsyncLocalStorage<OpenTransaction>();
  private readonly texts = new Map<string, string>();

  /**
   * Connections that hold session locks (Sql.lock) for as long as their work runs: apart from
   * the query pool, so work holding a lock never waits for a connection that another lock
   * holder keeps.
   */
  private readonly lockPool: pg.Pool;

  constructor(pool: pg.Pool, lockPool: pg.Pool) {
    this.pool = pool;
    this.lockPool = lockPool;
  }

  async get(sql: string, params: readonly Param[] = []): Promise<Row | undefined> {
    return (await this.query(sql, params)).rows[0];
  }

  async all(sql: string, params: readonly Param[] = []): Promise<Row[]> {
    return (await this.query(sql, params)).rows;
  }

  async run(sql: string, params: readonly Param[] = []): Promise<RunResult> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    await this.send((q) => q.query(script));
  }

  async transaction<T>(fn: () => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    if (this.context.getStore()) return fn();
    const client = await connect(this.pool);
    let broken = false;
    try {
      await client.query('BEGIN');
      if (!opts.rollback) await client.query('SELECT pg_advisory_xact_lock($1)', [WRITER_LOCK]);
      const result = await this.context.run({ client, tail: Promise.resolve() }, fn);
      await client.query(opts.rollback ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  lock<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<T> {
    return this.holding(name, true, fn) as Promise<T>;
  }

  async tryLock<T>(name: string, fn: (lost: AbortSignal) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const NOT = Symbol('not taken');
    const r = await this.holding(name, false, fn, NOT);
    return r === NOT ? { ran: false } : { ran: true, value: r as T };
  }

  /**
   * Hold a session advisory lock on a connection of its own while `fn` runs. If that
   * session dies (the server restarts, a network cut), the lock is gone: `lost` aborts so
   * long work can stop, and other replicas may take the lock.
   */
  private async holding<T>(name: string, wait: boolean, fn: (lost: AbortSignal) => Promise<T>, notTaken?: symbol): Promise<T | symbol | undefined> {
    const client = await connect(this.lockPool);
    const key = lockKey(name);
    const lost = new AbortController();
    const onError = () => lost.abort(new Error(`the database session holding the lock ${name} ended`));
    client.on('error', onError);
    let broken = false;
    try {
      if (wait) await client.query('SELECT pg_advisory_lock($1, $2)', key);
      else if (!(await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', key)).rows[0].ok) return notTaken;
      try {
        return await fn(lost.signal);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', key).catch(() => { broken = true; });
      }
    } catch (err) {
      broken ||= lost.signal.aborted;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken || lost.signal.aborted);
    }
  }

  inTransaction(): boolean {
    return this.context.getStore() !== undefined;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }

  /** On the pool, or in turn on the open transaction's connection. */
  private send<T>(query: (on: pg.Pool | pg.PoolClient) => Promise<T>): Promise<T> {
    const tx = this.context.getStore();
    if (!tx) return query(this.pool);
    const result = tx.tail.then(() => query(tx.client));
    tx.tail = result.catch(() => {});
    return result;
  }

  private async query(sql: string, params: readonly Param[]): Promise<pg.QueryResult<Row>> {
    refuseNul(params);
    let text = this.texts.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql);
      this.texts.set(sql, text);
    }
    return this.send((q) => q.query<Row>(text, params as unknown[]));
  }
}

/**
 * A client checked out of a pool. A server that goes away while it is checked out makes the
 * client emit 'error' (the query under way fails on its own): without a listener that would
 * end the process.
 */
async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  if (client.listenerCount('error') === 0) client.on('error', () => {});
  return client;
}

/** Connect to `url` (postgres://…), and bring the schema up to date. */
export async function openPostgres(url: string, opts: { max?: number } = {}): Promise<PostgresSql> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types, application_name: 'wharf' });
  // An idle client that loses its server (restart, failover) must not take the process down.
  pool.on('error', () => {});
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const lockPool = new pg.Pool({ connectionString: url, max: 32, types, application_name: 'wharf-locks' });
  lockPool.on('error', () => {});
  return new PostgresSql(pool, lockPool);
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS wharf_schema (version INTEGER NOT NULL)');
    const row = (await client.query<{ version: number }>('SELECT version FROM wharf_schema')).rows[0];
    let version = row?.version ?? 0;
    if (!row) await client.query('INSERT INTO wharf_schema (version) VALUES (0)');
    if (version > postgresMigrations.length) {
      throw new SchemaTooNewError(`the database is at schema version ${version}, newer than this Wharf knows (${postgresMigrations.length}): `
        + 'a newer Wharf wrote it; run that version, or restore the backup made before the upgrade');
    }
    for (; version < postgresMigrations.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(postgresMigrations[version]);
        await client.query('UPDATE wharf_schema SET version = $1', [version + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
