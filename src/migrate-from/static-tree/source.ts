// `wharf migrate-from static <dir> [--repo NAME]`: a folder of files served as they are.
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { clientFrom, run, type GlobalOptions } from '../../cli/context.ts';
import type { MigrationSource } from '../../cli/commands/migrate-from.ts';
import { printReport } from '../finish.ts';
import { MigrationReport } from '../report.ts';
import { migrateStaticTree } from './migrate.ts';

export const staticSource: MigrationSource = {
  register(parent: Command, globals: () => GlobalOptions) {
    parent.command('static <dir>')
      .description('a files repository with the same paths as a static tree of files (e.g. a dist/ folder of tarballs)')
      .option('--repo <name>', 'the Wharf repository to create or fill (default: the directory\'s name)')
      .option('--jobs <n>', 'batch requests at once', '2')
      .action((dir: string, o: { repo?: string; jobs: string }) => run(async () => {
        const root = resolve(dir);
        const report = new MigrationReport();
        await migrateStaticTree(clientFrom(globals()), root, { repo: o.repo ?? basename(root), jobs: Math.max(1, Number(o.jobs) || 2) }, report);
        printReport(report, `static tree ${root}`, globals());
      }));
  },
};
