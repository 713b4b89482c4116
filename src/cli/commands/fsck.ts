// `wharf fsck`: check (and with --repair, fix) a data directory with the server stopped.
// It works on the directory itself, not through the API, so it can run after a crash before
// the server starts again; it takes the directory's lock, so it refuses while a server runs.
import { actingAs, CLI } from '../../core/audit.ts';
import type { Command } from 'commander';
import { fsck, formatFsckReport } from '../../core/fsck.ts';
import { ConfigError, loadConfig, type Config } from '../../server/config.ts';
import type { GlobalOptions } from '../context.ts';
import { openOffline } from '../offline.ts';

interface FsckFlags {
  data?: string;
  config?: string;
  blobs?: string;
  database?: string;
  repair?: boolean;
  grace?: string;
  quick?: boolean;
}

export function registerFsckCommand(program: Command, globals: () => GlobalOptions): void {
  program.command('fsck')
    .description('check a data directory (server stopped): blobs, published indexes, temp files, orphans; exit 1 on problems')
    .option('--data <dir>', 'data directory (WHARF_DATA, default ./wharf-data)')
    .option('--config <file>', 'JSON configuration file (WHARF_CONFIG), for data, blobs and gcGraceSeconds')
    .option('--database <url>', 'the PostgreSQL database the server uses (WHARF_DATABASE_URL; default: SQLite in --data)')
    .option('--blobs <url>', 'the blob store the server uses, s3://BUCKET/PREFIX (WHARF_BLOBS, WHARF_S3_*; default: files under --data)')
    .option('--repair', 'republish indexes that differ, remove temp files and orphans past the grace period')
    .option('--grace <seconds>', 'orphaned blobs younger than this are only noted (default: gcGraceSeconds, 3600)')
    .option('--quick', 'check blob sizes only, without recomputing each sha256')
    .action(async (o: FsckFlags) => {
      process.exitCode = await runFsck(o, globals().json === true);
    });
}

async function runFsck(o: FsckFlags, json: boolean): Promise<number> {
  let data: string;
  let grace: number;
  let config: Config;
  try {
    config = loadConfig({ flags: { data: o.data, config: o.config, blobs: o.blobs, database: o.database } });
    data = config.data;
    grace = o.grace === undefined ? config.gcGraceSeconds : Number(o.grace);
    if (!(grace >= 0)) throw new ConfigError('--grace must be a number of seconds');
  } catch (err) {
    process.stderr.write(`wharf: ${(err as Error).message}\n`);
    return 2;
  }
  let opened;
  try {
    opened = await openOffline(data, o.repair ? 'fsck --repair' : 'fsck', grace, config);
  } catch (err) {
    process.stderr.write(`wharf: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const wharf = opened.wharf;
    // A command on the data directory: what it changes is audited as `cli` (nobody logged in).
    const report = await actingAs(CLI, () => fsck(wharf, { repair: o.repair === true, graceMs: grace * 1000, hashBlobs: !o.quick }));
    process.stdout.write(json ? JSON.stringify({ data, ...report }, null, 2) + '\n' : `wharf fsck ${data}\n${formatFsckReport(report, o.repair === true)}`);
    return report.clean ? 0 : 1;
  } finally {
    await opened.close();
  }
}
