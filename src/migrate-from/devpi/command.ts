// `wharf migrate-from devpi <export-dir>`: the CLI glue around migrateFromDevpi.
import type { Command } from 'commander';
import type { MigrationSource } from '../../cli/commands/migrate-from.ts';
import { clientFrom, CliError, out, run, type GlobalOptions } from '../../cli/context.ts';
import { DevpiExportError } from './export.ts';
import { migrateFromDevpi } from './migrate.ts';
import { parseRenames } from './plan.ts';

export const devpiSource: MigrationSource = {
  register(parent: Command, globals: () => GlobalOptions): void {
    parent.command('devpi <export-dir>')
      .description('users, indexes (bases as groups, volatile as allowOverwrite, ACLs as grants) and release files from a directory devpi-export wrote')
      .option('--rename <user/index=name>', 'the repository an index becomes (default user-index; repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--mint-tokens', 'mint a token for each migrated user and print it once (devpi passwords cannot move)')
      .option('--devpi-urls', "each index's repository also answers at devpi's /<user>/<index>/ URLs (+simple/, uploads), so pip.conf and .pypirc keep working")
      .option('--jobs <n>', 'batch uploads at once', '2')
      .action((dir: string, o: { rename: string[]; mintTokens?: boolean; devpiUrls?: boolean; jobs: string }) => run(async () => {
        try {
          const { report } = await migrateFromDevpi(clientFrom(globals()), dir, { rename: parseRenames(o.rename), mintTokens: o.mintTokens === true, devpiUrls: o.devpiUrls === true, jobs: Math.max(1, Number(o.jobs) || 2) });
          if (globals().json) out(JSON.stringify(report, null, 2));
          else out(report.summary(`devpi export ${dir}`) + (report.changedNothing ? 'nothing changed: everything was already in place\n' : ''));
        } catch (err) {
          if (err instanceof DevpiExportError) throw new CliError(err.message);
          throw err;
        }
      }));
  },
};
