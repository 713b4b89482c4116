// `wharf migrate-from pypiserver <packages-dir> [--htpasswd FILE] [--repo NAME]`.
import type { Command } from 'commander';
import type { MigrationSource } from '../../cli/commands/migrate-from.ts';
import { clientFrom, out, run } from '../../cli/context.ts';
import { migratePypiserver } from './migrate.ts';

export const pypiserverSource: MigrationSource = {
  register(parent: Command, globals) {
    parent.command('pypiserver <packages-dir>')
      .description('a pypiserver packages folder becomes a hosted PyPI repository; its htpasswd users keep their passwords')
      .option('--htpasswd <file>', 'the htpasswd file pypiserver ran with (-P): its users get write on the repository')
      .option('--repo <name>', 'the repository to create or fill', 'pypi')
      .option('--private', 'only users with a grant may read (pypiserver run with -a download,list,update)')
      .option('--jobs <n>', 'upload requests at once', '2')
      .action((dir: string, o: { htpasswd?: string; repo: string; private?: boolean; jobs: string }) => run(async () => {
        const report = await migratePypiserver(clientFrom(globals()), { packagesDir: dir, htpasswd: o.htpasswd, repo: o.repo, private: !!o.private, jobs: Math.max(1, Number(o.jobs) || 2) });
        out(globals().json ? JSON.stringify(report, null, 2) : report.summary(`pypiserver ${dir}`));
      }));
  },
};
