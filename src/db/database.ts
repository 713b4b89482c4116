// Opens the metadata database named by the configuration and brings its schema up to date:
// a PostgreSQL URL (postgres://… or postgresql://…), else a SQLite file (or ':memory:').
import { openSqlite, SchemaTooNewError } from './sqlite-sql.ts';
import type { Sql } from './sql.ts';

export { SchemaTooNewError };

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openDatabase(location: string): Promise<Sql> {
  if (isPostgresUrl(location)) {
    // Loaded only when asked for: the embedded default never loads the driver.
    const { openPostgres } = await import('./postgres-sql.ts');
    return openPostgres(location);
  }
  return openSqlite(location);
}
