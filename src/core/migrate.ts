// Moving an installation (`wharf migrate`): a SQLite database and blobs on disk copied into
// PostgreSQL, an object store, or both, the source only read. Blobs go first, so a corrupt or
// missing blob stops the move before any row is written, and a rerun resumes where the
// bucket left off; the metadata then goes into a target checked empty beforehand.
import { copyPages } from '../db/migrate/page-copy.ts';
import { checkSourceSchema, checkTargetEmpty, copyMetadata, MigrationProblem, planCopy, type TablePlan } from '../db/migrate/copy-metadata.ts';
import type { Row, Sql } from '../db/sql.ts';
import type { SqliteSql } from '../db/sqlite-sql.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { BlobCopier, CorruptBlobError, type BlobRow } from '../storage/copy-blobs.ts';

export { MigrationProblem };

export interface MigrateProgress {
  /** A step begins (one line). */
  step(line: string): void;
  blobs(done: number, total: number, bytes: number, totalBytes: number): void;
  rows(table: string, copied: number, total: number): void;
}

export interface MigrateOptions {
  source: { sql: SqliteSql; file: string; blobs: BlobStore };
  /** Where the metadata goes; absent: it stays in SQLite. */
  database?: Sql;
  /** Where the blobs go; absent: they stay on disk. */
  blobs?: BlobStore;
  /** Copy the rows of files whose blobs are missing instead of stopping. */
  allowMissing?: boolean;
  pageSize?: number;
  concurrency?: number;
  progress?: MigrateProgress;
}

export interface MigrateSummary {
  repositories: number;
  packages: number;
  files: number;
  users: number;
  tokens: number;
  blobs: { total: number; bytes: number; copied: number; alreadyThere: number; copiedBytes: number; missing: number } | null;
  /** Missing blobs and the files naming them (with --allow-missing; the first 100). */
  missing: { sha256: string; files: string[] }[];
  tables: { name: string; rows: number }[] | null;
  /** Repositories whose totals were wrong in the source (recounted in the target). */
  statsCorrected: string[];
  seconds: number;
}

const count = async (sql: Sql, q: string): Promise<number> => Number(((await sql.get(q)) as Row).n);

/** `repo/path` of the files that name a blob (the first few). */
async function filesNaming(sql: Sql, sha256: string, limit = 10): Promise<string[]> {
  const rows = await sql.all(`SELECT r.name AS repo, f.path FROM files f JOIN repositories r ON r.id = f.repo_id
    WHERE f.sha256 = ? ORDER BY r.name, f.path LIMIT ${limit}`, [sha256]);
  return rows.map((r) => `${r.repo}/${r.path}`);
}

export async function migrate(o: MigrateOptions): Promise<MigrateSummary> {
  const started = Date.now();
  const src = o.source.sql;
  const progress = o.progress;
  if (!o.database && !o.blobs) throw new MigrationProblem('nothing to migrate to: give --database postgres://…, --blobs s3://…, or both');
  await checkSourceSchema(src, o.source.file);
  let plans: TablePlan[] | null = null;
  if (o.database) {
    plans = await planCopy(src, o.database);
    await checkTargetEmpty(o.database, plans);
  }
  const summary: MigrateSummary = {
    repositories: await count(src, 'SELECT COUNT(*) AS n FROM repositories'),
    packages: await count(src, 'SELECT COUNT(*) AS n FROM packages'),
    files: await count(src, 'SELECT COUNT(*) AS n FROM files'),
    users: await count(src, 'SELECT COUNT(*) AS n FROM users'),
    tokens: await count(src, 'SELECT COUNT(*) AS n FROM tokens'),
    blobs: null,
    missing: [],
    tables: null,
    statsCorrected: [],
    seconds: 0,
  };

  if (o.blobs) {
    const totals = (await src.get('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM blobs')) as Row;
    const total = Number(totals.n);
    const totalBytes = Number(totals.bytes);
    progress?.step(`blobs: ${total} to copy`);
    const copier = new BlobCopier(o.source.blobs, o.blobs, {
      concurrency: o.concurrency,
      onBlob: (done, bytes) => progress?.blobs(done, total, bytes, totalBytes),
    });
    const toBlob = (r: Row): BlobRow => ({ sha256: String(r.sha256), size: Number(r.size) });
    try {
      await copyPages({
        read: (after, limit) => src.all('SELECT rowid AS k, sha256, size FROM blobs WHERE rowid > ? ORDER BY rowid LIMIT ?', [after ?? Number.MIN_SAFE_INTEGER, limit]),
        key: (r) => Number(r.k),
      }, (rows) => copier.batch(rows.map(toBlob)), o.pageSize ?? 1000);
    } catch (err) {
      if (err instanceof CorruptBlobError) {
        const files = await filesNaming(src, err.sha256);
        throw new MigrationProblem(`${err.message}; it was not copied. Files naming it: ${files.length ? files.join(', ') : 'none'}. `
          + 'Restore the blob from a backup (or delete those files), then run wharf migrate again: blobs already copied are not copied again');
      }
      throw err;
    }
    const r = copier.result;
    summary.blobs = { total: r.blobs, bytes: totalBytes, copied: r.copied, alreadyThere: r.present, copiedBytes: r.bytes, missing: r.missingCount };
    for (const b of r.missing.slice(0, 100)) summary.missing.push({ sha256: b.sha256, files: await filesNaming(src, b.sha256) });
    if (r.missingCount > 0 && !o.allowMissing) {
      const listed = summary.missing.slice(0, 20).map((m) => `${m.sha256} (${m.files.join(', ') || 'no file'})`).join('; ');
      throw new MigrationProblem(`${r.missingCount} blob${r.missingCount === 1 ? ' is' : 's are'} missing from the source: ${listed}${r.missingCount > 20 ? '; …' : ''}. `
        + 'Restore them from a backup, or give --allow-missing to move the rest (those files will answer as missing)');
    }
  }

  if (o.database && plans) {
    progress?.step(`metadata: ${plans.length} tables`);
    const copied = await copyMetadata(src, o.database, plans, { pageSize: o.pageSize, onProgress: (t, c, n) => progress?.rows(t, c, n) });
    summary.tables = copied.tables;
    summary.statsCorrected = copied.statsCorrected;
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
