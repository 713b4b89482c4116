// The metadata engines a test runs on: SQLite always, PostgreSQL unless WHARF_TEST_ENGINES
// leaves it out (e.g. WHARF_TEST_ENGINES=sqlite for a quick local run). PostgreSQL is started
// once per test process (test/helpers/postgres.ts) and each database is fresh.
import { openDatabase } from '../../src/db/database.ts';
import type { Sql } from '../../src/db/sql.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

export interface Engine {
  name: 'sqlite' | 'postgres';
  /** A new, empty, migrated database. */
  fresh(): Promise<Sql>;
  /** A location for `openDatabase`/`--database`: a new empty database (PostgreSQL) or `file` (SQLite). */
  location(file: string): Promise<string>;
}

export function engineNames(): Engine['name'][] {
  const wanted = (process.env.WHARF_TEST_ENGINES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  return (['sqlite', 'postgres'] as const).filter((e) => wanted.includes(e));
}

let server: Promise<TestPostgres> | null = null;
let databases = 0;

/** The test process's PostgreSQL, started at the first call and stopped when the process exits. */
export function sharedPostgres(): Promise<TestPostgres> {
  server ??= startPostgres();
  return server;
}

/** A new empty PostgreSQL database's URL. */
export async function freshPostgresUrl(): Promise<string> {
  const pg = await sharedPostgres();
  return pg.createDatabase(`wharf_${process.pid}_${++databases}`);
}

export function engine(name: Engine['name']): Engine {
  if (name === 'sqlite') {
    return { name, fresh: () => openDatabase(':memory:'), location: async (file) => file };
  }
  return {
    name,
    fresh: async () => openDatabase(await freshPostgresUrl()),
    location: () => freshPostgresUrl(),
  };
}

export const engines = (): Engine[] => engineNames().map(engine);
