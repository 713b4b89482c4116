// Opens the metadata database named by the configuration and brings its schema up to date.
import { openSqlite, SchemaTooNewError } from './sqlite-sql.ts';
import type { Sql } from './sql.ts';

export { SchemaTooNewError };

/** A SQLite file (or ':memory:'). */
export async function openDatabase(location: string): Promise<Sql> {
  return openSqlite(location);
}
