// `wharf migrate-from repo-add <dir>` (also `archrepo`): a directory repo-add maintains
// becomes an Arch repository, the packages' own signatures kept.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { clientFrom, run, type GlobalOptions } from '../../cli/context.ts';
import type { MigrationSource } from '../../cli/commands/migrate-from.ts';
import { printReport } from '../finish.ts';
import { MigrationReport } from '../report.ts';
import { migrateArchDb } from './migrate.ts';
import { readArchDbDir } from './read.ts';

export const repoAddSource: MigrationSource = {
  register(parent: Command, globals: () => GlobalOptions) {
    parent.command('repo-add <dir>').alias('archrepo')
      .description('an Arch repository from a directory with <name>.db.tar.*, its packages and their .sig files')
      .option('--repo <name>', 'the Wharf repository to create or fill (default: the db\'s name)')
      .option('--db <name>', 'which db, when the directory has several')
      .option('--jobs <n>', 'batch requests at once', '2')
      .action((dir: string, o: { repo?: string; db?: string; jobs: string }) => run(async () => {
        const src = await readArchDbDir(resolve(dir), o.db);
        const report = new MigrationReport();
        await migrateArchDb(clientFrom(globals()), src, { repo: o.repo ?? src.name, jobs: Math.max(1, Number(o.jobs) || 2) }, report);
        printReport(report, `repo-add ${src.dir}/${src.dbFile}`, globals());
      }));
  },
};
