// `wharf migrate`'s metadata half: every table of a SQLite database copied into an empty
// PostgreSQL database of the same schema version, ids kept, in foreign-key order, a page per
// transaction. What the target derives itself is not copied: the search index (FTS5 in
// SQLite, generated tsvector columns in PostgreSQL), the per-repository totals (`repo_stats`,
// kept by triggers, checked afterwards) and the change feed (`repo_changes`, which the target
// starts afresh: no process has state to keep right yet).
import { ChangeLog } from '../change-log.ts';
import { migrations } from '../migrations.ts';
import type { Param, Row, Sql } from '../sql.ts';
import type { SqliteSql } from '../sqlite-sql.ts';
import { copyPages, insertStatements, quoteName } from './page-copy.ts';
import { copyOrder } from './table-order.ts';

/** Kept by the target itself: triggers fill them as the rows arrive. */
const DERIVED = new Set(['repo_stats', 'repo_changes']);
/**
 * Written by the target's triggers as other tables' rows arrive (the history opens a row per
 * file), but the source's own rows are the truth (closed rows, original times): copied last,
 * over what the triggers wrote.
 */
const REWRITTEN = new Set(['file_history']);

/** Something about the source or the target that stops the migration (exit 1), said in full. */
export class MigrationProblem extends Error {
  override name = 'MigrationProblem';
}

export interface TablePlan {
  name: string;
  columns: string[];
  /** Columns that are bytes in the target (BYTEA): read as bytes whatever SQLite stored. */
  bytes: Set<string>;
  rows: number;
}

export interface MetadataCopyOptions {
  pageSize?: number;
  /** After each page of a table: rows copied so far of its `total`. */
  onProgress?(table: string, copied: number, total: number): void;
}

export interface MetadataCopyResult {
  tables: { name: string; rows: number }[];
  /** Repositories whose totals in the source differed from their rows (the target's are recounted). */
  statsCorrected: string[];
}

/** The schema version of the source; stops unless it is this Wharf's. */
export async function checkSourceSchema(src: SqliteSql, file: string): Promise<number> {
  const v = Number(((await src.get('PRAGMA user_version')) as Row).user_version);
  if (v > migrations.length) {
    throw new MigrationProblem(`${file} is at schema version ${v}, newer than this Wharf knows (${migrations.length}): migrate it with the Wharf that wrote it`);
  }
  if (v < migrations.length) {
    throw new MigrationProblem(`${file} is at schema version ${v}, older than this Wharf's (${migrations.length}): start this Wharf on it once (wharf serve --data …) to upgrade it, stop it, then migrate`);
  }
  return v;
}

interface TargetColumn {
  type: string;
  generated: boolean;
  identity: boolean;
}

async function targetColumns(dst: Sql): Promise<Map<string, Map<string, TargetColumn>>> {
  const rows = await dst.all(`SELECT table_name, column_name, data_type, is_generated, is_identity FROM information_schema.columns
    WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`);
  const out = new Map<string, Map<string, TargetColumn>>();
  for (const r of rows) {
    const t = String(r.table_name);
    if (!out.has(t)) out.set(t, new Map());
    out.get(t)!.set(String(r.column_name), { type: String(r.data_type), generated: r.is_generated === 'ALWAYS', identity: r.is_identity === 'YES' });
  }
  return out;
}

/** The source's tables to copy, in foreign-key order, each with its columns as the target has them. */
export async function planCopy(src: SqliteSql, dst: Sql): Promise<TablePlan[]> {
  const all = await src.all("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rootpage");
  const virtual = all.filter((t) => /^CREATE VIRTUAL TABLE/i.test(String(t.sql))).map((t) => String(t.name));
  // A virtual table (FTS5) and its shadow tables are an index the target builds its own way.
  const copied = all.map((t) => String(t.name)).filter((n) => !DERIVED.has(n) && !virtual.some((v) => n === v || n.startsWith(`${v}_`)));
  const refs = [];
  for (const name of copied) {
    const fks = await src.all(`PRAGMA foreign_key_list(${quoteName(name)})`);
    refs.push({ name, references: fks.map((f) => String(f.table)) });
  }
  const target = await targetColumns(dst);
  const plans: TablePlan[] = [];
  for (const name of copyOrder(refs)) {
    const cols = target.get(name);
    if (!cols) throw new MigrationProblem(`the target database has no table ${name}: is it at this Wharf's schema?`);
    const columns = (await src.all(`PRAGMA table_info(${quoteName(name)})`)).map((c) => String(c.name));
    for (const c of columns) {
      const t = cols.get(c);
      if (!t || t.generated) throw new MigrationProblem(`the target database's table ${name} has no column ${c} to copy into: is it at this Wharf's schema?`);
    }
    const bytes = new Set(columns.filter((c) => cols.get(c)!.type === 'bytea'));
    const rows = Number(((await src.get(`SELECT COUNT(*) AS n FROM ${quoteName(name)}`)) as Row).n);
    plans.push({ name, columns, bytes, rows });
  }
  return plans;
}

/** Stops unless every table to copy is empty in the target, naming what it holds. */
export async function checkTargetEmpty(dst: Sql, plans: readonly TablePlan[]): Promise<void> {
  const held: string[] = [];
  for (const p of plans) {
    const n = Number(((await dst.get(`SELECT COUNT(*) AS n FROM ${quoteName(p.name)}`)) as Row).n);
    if (n === 0) continue;
    let what = `${n} ${n === 1 ? 'row' : 'rows'} in ${p.name}`;
    if (p.name === 'repositories' || p.name === 'users') {
      const names = (await dst.all(`SELECT name FROM ${quoteName(p.name)} ORDER BY name LIMIT 5`)).map((r) => String(r.name));
      what += ` (${names.join(', ')}${n > names.length ? ', …' : ''})`;
    }
    held.push(what);
  }
  if (held.length > 0) {
    throw new MigrationProblem(`the target database already holds Wharf data: ${held.join('; ')}. Migrate into an empty database `
      + '(a new one, or empty this one: DROP SCHEMA public CASCADE; CREATE SCHEMA public;), so no row of the source meets one already there');
  }
}

/** Copy every table of `plans` from `src` into `dst`, then set the target's sequences, feed and totals right. */
export async function copyMetadata(src: SqliteSql, dst: Sql, plans: readonly TablePlan[], opts: MetadataCopyOptions = {}): Promise<MetadataCopyResult> {
  const pageSize = opts.pageSize ?? 1000;
  const tables: MetadataCopyResult['tables'] = [];
  try {
    const ordered = [...plans.filter((p) => !REWRITTEN.has(p.name)), ...plans.filter((p) => REWRITTEN.has(p.name))];
    for (const p of ordered) {
      if (REWRITTEN.has(p.name)) await dst.transaction(() => dst.run(`DELETE FROM ${quoteName(p.name)}`));
      const select = p.columns.map((c) => (p.bytes.has(c) ? `CAST(${quoteName(c)} AS BLOB) AS ${quoteName(c)}` : quoteName(c))).join(', ');
      const source = {
        read: (after: number | null, limit: number) => src.all(
          `SELECT rowid AS "wharf$rowid", ${select} FROM ${quoteName(p.name)} WHERE rowid > ? ORDER BY rowid LIMIT ?`, [after ?? Number.MIN_SAFE_INTEGER, limit]),
        key: (r: Row) => Number(r['wharf$rowid']),
      };
      const n = await copyPages(source, (rows) => dst.transaction(async () => {
        for (const s of insertStatements(p.name, p.columns, rows.map((r) => p.columns.map((c) => value(p, c, r))))) await dst.run(s.sql, s.params);
      }), pageSize, (copied) => opts.onProgress?.(p.name, copied, p.rows));
      const inTarget = Number(((await dst.get(`SELECT COUNT(*) AS n FROM ${quoteName(p.name)}`)) as Row).n);
      if (inTarget !== n) throw new MigrationProblem(`table ${p.name}: ${n} rows copied but the target holds ${inTarget}`);
      tables.push({ name: p.name, rows: n });
    }
    await advanceIdentities(dst, plans);
    await new ChangeLog(dst).forgetAll();
    const statsCorrected = await settleTotals(src, dst);
    return { tables, statsCorrected };
  } catch (err) {
    // The target was empty: leave it so, and a rerun starts clean.
    await emptyTarget(dst, plans).catch(() => {});
    throw err;
  }
}

/** A value as the target column takes it. */
function value(p: TablePlan, column: string, row: Row): Param {
  const v = row[column];
  if (v instanceof Uint8Array && !p.bytes.has(column)) {
    throw new MigrationProblem(`table ${p.name}, row ${row['wharf$rowid']}: column ${column} holds bytes where the schema keeps text or numbers`);
  }
  return v as Param;
}

/** Ids were inserted as they were: the identity sequences go on after the largest. */
async function advanceIdentities(dst: Sql, plans: readonly TablePlan[]): Promise<void> {
  const ids = await dst.all(`SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND is_identity = 'YES'`);
  for (const r of ids) {
    const table = String(r.table_name);
    if (!plans.some((p) => p.name === table)) continue;
    const column = String(r.column_name);
    await dst.get(`SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(${quoteName(column)}) FROM ${quoteName(table)}), 0) + 1, false)`, [quoteName(table), column]);
  }
}

/**
 * The target's totals were counted by its triggers as the rows arrived: they must equal the
 * source's rows. The time of the last change is the source's (the triggers saw the rows in id
 * order, not in the order they changed).
 */
async function settleTotals(src: SqliteSql, dst: Sql): Promise<string[]> {
  const truth = await src.all(`SELECT r.id, r.name,
      (SELECT COUNT(*) FROM packages p WHERE p.repo_id = r.id) AS packages,
      (SELECT COUNT(*) FROM files f WHERE f.repo_id = r.id) AS files,
      (SELECT COALESCE(SUM(size), 0) FROM files f WHERE f.repo_id = r.id) AS bytes,
      s.packages AS s_packages, s.files AS s_files, s.bytes AS s_bytes, s.last_change
    FROM repositories r LEFT JOIN repo_stats s ON s.repo_id = r.id ORDER BY r.id`);
  const corrected: string[] = [];
  for (const t of truth) {
    const got = await dst.get('SELECT packages, files, bytes FROM repo_stats WHERE repo_id = ?', [Number(t.id)]);
    const want = [Number(t.packages), Number(t.files), Number(t.bytes)];
    const have = got ? [Number(got.packages), Number(got.files), Number(got.bytes)] : null;
    if (!have || have.some((v, i) => v !== want[i])) {
      throw new MigrationProblem(`repository ${t.name}: the target counts ${have ? `${have[0]} packages, ${have[1]} files, ${have[2]} bytes` : 'nothing'} where the source holds ${want[0]} packages, ${want[1]} files, ${want[2]} bytes`);
    }
    if ([t.s_packages, t.s_files, t.s_bytes].some((v, i) => Number(v) !== want[i])) corrected.push(String(t.name));
    if (t.last_change !== null && t.last_change !== undefined) {
      await dst.transaction(() => dst.run('UPDATE repo_stats SET last_change = ? WHERE repo_id = ?', [String(t.last_change), Number(t.id)]));
    }
  }
  return corrected;
}

async function emptyTarget(dst: Sql, plans: readonly TablePlan[]): Promise<void> {
  const names = [...plans.map((p) => p.name), ...DERIVED].map(quoteName).join(', ');
  await dst.transaction(() => dst.exec(`TRUNCATE ${names} CASCADE`));
}
