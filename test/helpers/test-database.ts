// Which metadata engine the integration suite runs on: SQLite in the data directory (the
// default), or with WHARF_TEST_DATABASE=postgres a fresh PostgreSQL database per data
// directory, in the test process's own PostgreSQL (test/helpers/engines.ts). A server started
// again on the same data directory, and any child process given that directory (`wharf serve`,
// `wharf fsck --data`, the second writer), find the same database through `databaseFor`.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { freshPostgresUrl, sharedPostgres } from './engines.ts';

export const testEngine: 'sqlite' | 'postgres' = process.env.WHARF_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = testEngine === 'postgres';

if (process.env.WHARF_TEST_DATABASE && !['sqlite', 'postgres'].includes(process.env.WHARF_TEST_DATABASE)) {
  throw new Error(`WHARF_TEST_DATABASE=${process.env.WHARF_TEST_DATABASE}: expected sqlite or postgres`);
}

/** For `it(name, { skip: sqliteOnly('why') })`: skipped on PostgreSQL, saying why. */
export function sqliteOnly(why: string): string | false {
  return onPostgres && `SQLite only: ${why}`;
}

const byData = new Map<string, Promise<string>>();

function key(data: string): string {
  const path = resolve(data);
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The database URL of the server on `data` (created at the first ask), or undefined on SQLite. */
export function databaseFor(data: string): Promise<string | undefined> {
  if (!onPostgres) return Promise.resolve(undefined);
  const k = key(data);
  let url = byData.get(k);
  if (!url) {
    url = freshPostgresUrl();
    byData.set(k, url);
    // A failed creation is not remembered: the next ask tries again.
    url.catch(() => byData.delete(k));
  }
  return url;
}

/** The environment a child process on `data` needs: WHARF_DATABASE_URL on PostgreSQL. */
export async function databaseEnv(data: string): Promise<Record<string, string>> {
  const url = await databaseFor(data);
  return url ? { WHARF_DATABASE_URL: url } : {};
}

/** Drop the database of `data` (the directory is gone): keeps one test file's PostgreSQL small. */
export async function forgetDatabase(data: string): Promise<void> {
  const k = key(data);
  const url = byData.get(k);
  if (!url) return;
  byData.delete(k);
  const name = new URL(await url).pathname.slice(1);
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: (await sharedPostgres()).url });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
