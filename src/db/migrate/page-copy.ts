// Copying a table in pages: read a page after the last key seen, write it, and only then read
// the next, so memory holds one page whatever the table's size (keyset paging: no OFFSET,
// which would rescan every row before the page).
import type { Param, Row } from '../sql.ts';

export interface PageSource {
  /** Up to `limit` rows with a key above `after` (null: from the start), in key order. */
  read(after: number | null, limit: number): Promise<Row[]>;
  /** A row's key, increasing along the pages. */
  key(row: Row): number;
}

/** Copies every row of `source` through `write`, `pageSize` at a time; returns the number of rows. */
export async function copyPages(source: PageSource, write: (rows: Row[]) => Promise<void>, pageSize: number, onPage?: (copied: number) => void): Promise<number> {
  if (!(pageSize >= 1)) throw new RangeError(`page size ${pageSize}`);
  let after: number | null = null;
  let copied = 0;
  for (;;) {
    const rows = await source.read(after, pageSize);
    if (rows.length > pageSize) throw new Error(`a page of ${rows.length} rows was read, more than the ${pageSize} asked for`);
    if (rows.length === 0) break;
    const last = source.key(rows[rows.length - 1]);
    if (after !== null && !(last > after)) throw new Error(`paging stalled at key ${after}`);
    await write(rows);
    copied += rows.length;
    onPage?.(copied);
    if (rows.length < pageSize) break;
    after = last;
  }
  return copied;
}

/** A double-quoted SQL identifier. */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Multi-row INSERT statements for `rows` (each an array of values in `columns` order), split
 * so that no statement has more than `maxParams` parameters (PostgreSQL allows 65,535).
 */
export function insertStatements(table: string, columns: readonly string[], rows: readonly (readonly Param[])[], maxParams = 60_000): { sql: string; params: Param[] }[] {
  if (columns.length === 0) throw new Error(`table ${table}: no columns to insert`);
  const perStatement = Math.max(1, Math.floor(maxParams / columns.length));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const head = `INSERT INTO ${quoteName(table)} (${columns.map(quoteName).join(', ')}) VALUES `;
  const out: { sql: string; params: Param[] }[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    for (const r of chunk) if (r.length !== columns.length) throw new Error(`table ${table}: a row of ${r.length} values for ${columns.length} columns`);
    out.push({ sql: head + chunk.map(() => tuple).join(', '), params: chunk.flat() });
  }
  return out;
}
