// `wharf migrate`: move a stopped installation's SQLite metadata into PostgreSQL and/or its
// blobs into an S3-compatible bucket (core/migrate.ts). The data directory is locked (no server
// may run on it) and only read: the database is opened read-only, without migrations, and the
// object store stages its uploads in a temporary directory of its own, outside the source.
// Exit 0: done; 1: a problem found (nothing half-done is left in the database); 2: usage.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { migrate, MigrationProblem, type MigrateSummary } from '../../core/migrate.ts';
import { openDatabase } from '../../db/database.ts';
import type { Sql } from '../../db/sql.ts';
import { openSqliteReadOnly, type SqliteSql } from '../../db/sqlite-sql.ts';
import { ConfigError, loadConfig, redactDatabaseUrl, type Config } from '../../server/config.ts';
import type { OpenedBlobStore } from '../../storage/open-blob-store.ts';
import { createBlobStore } from '../../storage/open-blob-store.ts';
import { FsBlobStore } from '../../storage/fs-blob-store.ts';
import { lockDataDir, type DataDirLock } from '../../storage/data-dir-lock.ts';
import { formatBytes, type GlobalOptions } from '../context.ts';
import { ProgressBar } from '../progress.ts';

interface MigrateFlags {
  data?: string;
  config?: string;
  database?: string;
  blobs?: string;
  allowMissing?: boolean;
}

export function registerMigrateCommand(program: Command, globals: () => GlobalOptions): void {
  program.command('migrate')
    .description('copy a stopped SQLite + files installation into PostgreSQL and/or S3-compatible storage, checking every blob\'s sha256; the source is only read')
    .option('--data <dir>', 'the data directory to move (WHARF_DATA, default ./wharf-data)')
    .option('--config <file>', 'JSON configuration file (WHARF_CONFIG), for data, database, blobs and s3* settings')
    .option('--database <url>', 'copy the metadata into this empty PostgreSQL database, postgres://USER:PASSWORD@HOST/DB (WHARF_DATABASE_URL)')
    .option('--blobs <url>', 'copy the blobs into this bucket, s3://BUCKET/PREFIX (WHARF_BLOBS; endpoint, region and keys from WHARF_S3_*)')
    .option('--allow-missing', 'move the rest when blobs are missing from the source, and list them (default: stop)')
    .addHelpText('after', `
Either target alone is a partial move: --database alone leaves the blobs in the data directory
(serve with the same --data); --blobs alone leaves the metadata in its wharf.db. Stop the server
first. A rerun after an interruption does not upload blobs already in the bucket again.
Exit status: 0 done, 1 a problem found (named on stderr), 2 usage.`)
    .action(async (o: MigrateFlags) => {
      process.exitCode = await runMigrate(o, globals().json === true);
    });
}

const fail = (msg: string, code: number): number => {
  process.stderr.write(`wharf: ${msg}\n`);
  return code;
};

async function runMigrate(o: MigrateFlags, json: boolean): Promise<number> {
  let config: Config;
  try {
    config = loadConfig({ flags: { data: o.data, config: o.config, blobs: o.blobs, database: o.database } });
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 2);
    throw err;
  }
  if (!config.database && !config.blobs) return fail('nothing to migrate to: give --database postgres://…, --blobs s3://…, or both (wharf migrate --help)', 2);
  const data = config.data;
  const file = join(data, 'wharf.db');
  if (!existsSync(file)) return fail(`${data} holds no SQLite installation (no wharf.db); give its directory with --data`, 2);

  let lock: DataDirLock | null = null;
  let src: SqliteSql | null = null;
  let database: Sql | null = null;
  let bucket: OpenedBlobStore | null = null;
  let scratch: string | null = null;
  const bar = new ProgressBar('blobs');
  try {
    lock = lockDataDir(data, 'migrate');
    // Scratch space outside the source: the object store's staging area, and a copy of
    // wharf.db if a server left a write-ahead log (reading that in place would touch the source).
    scratch = await mkdtemp(join(tmpdir(), 'wharf-migrate-'));
    src = openSqliteReadOnly(file, scratch);
    if (config.database) {
      try {
        database = await openDatabase(config.database);
      } catch (err) {
        return fail(`the target database ${redactDatabaseUrl(config.database)}: ${(err as Error).message}`, 1);
      }
    }
    if (config.blobs) {
      bucket = createBlobStore(data, config, { staging: join(scratch, 'staging') });
      await bucket.init();
    }
    const where = `${config.database ? `metadata → ${redactDatabaseUrl(config.database)}` : 'metadata stays in wharf.db'}; ${config.blobs ? `blobs → ${config.blobs}` : 'blobs stay in the data directory'}`;
    process.stderr.write(`wharf migrate: ${data} (${where})\n`);
    let lastTable = '';
    const summary = await migrate({
      source: { sql: src, file, blobs: new FsBlobStore(join(data, 'blobs')) },
      database: database ?? undefined,
      blobs: bucket ?? undefined,
      allowMissing: o.allowMissing === true,
      progress: {
        step: (line) => process.stderr.write(`wharf migrate: ${line}\n`),
        blobs: (done, total, bytes, totalBytes) => {
          bar.update(bytes, totalBytes);
          if (done === total) bar.done();
        },
        rows: (table, copied, total) => {
          if (table !== lastTable) lastTable = table;
          if (copied === total) process.stderr.write(`wharf migrate: ${table}: ${copied} rows\n`);
        },
      },
    });
    process.stdout.write(json ? JSON.stringify({ data, database: config.database ? redactDatabaseUrl(config.database) : null, bucket: config.blobs ?? null, ...summary }, null, 2) + '\n' : describe(summary, data, config));
    return 0;
  } catch (err) {
    bar.done();
    if (err instanceof MigrationProblem || (err instanceof Error && !(err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError))) return fail((err as Error).message, 1);
    throw err;
  } finally {
    await database?.close();
    await src?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    lock?.release();
  }
}

function describe(s: MigrateSummary, data: string, config: Config): string {
  const lines = [`wharf migrate: done in ${s.seconds.toFixed(1)} s`];
  lines.push(`  ${s.repositories} repositories, ${s.packages} packages, ${s.files} files, ${s.users} users, ${s.tokens} tokens`);
  if (s.tables) lines.push(`  metadata: ${s.tables.reduce((n, t) => n + t.rows, 0)} rows in ${s.tables.length} tables copied to ${redactDatabaseUrl(config.database!)}`);
  if (s.blobs) {
    lines.push(`  blobs: ${s.blobs.total} (${formatBytes(s.blobs.bytes)}): ${s.blobs.copied} copied (${formatBytes(s.blobs.copiedBytes)}, sha256 checked), ${s.blobs.alreadyThere} already in ${config.blobs}${s.blobs.missing ? `, ${s.blobs.missing} MISSING` : ''}`);
  }
  for (const m of s.missing) lines.push(`  missing: ${m.sha256} (${m.files.join(', ') || 'no file'})`);
  if (s.statsCorrected.length) lines.push(`  note: the totals of ${s.statsCorrected.join(', ')} were off in the source; the target's are recounted`);
  const serve = ['wharf serve', `--data ${data}`];
  if (config.database) serve.push('--database postgres://…');
  if (config.blobs) serve.push(`--blobs ${config.blobs}`);
  lines.push(`  the source is unchanged; next: ${serve.join(' ')}`);
  return lines.join('\n') + '\n';
}
