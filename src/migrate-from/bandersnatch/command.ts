// `wharf migrate-from bandersnatch <mirror-dir>`.
import type { Command } from 'commander';
import type { MigrationSource } from '../../cli/commands/migrate-from.ts';
import { clientFrom, out, run } from '../../cli/context.ts';
import { migrateBandersnatch } from './migrate.ts';

export const bandersnatchSource: MigrationSource = {
  register(parent: Command, globals) {
    parent.command('bandersnatch <mirror-dir>')
      .description('a bandersnatch mirror (its web/ tree) becomes a PyPI proxy repository with those files cached; Wharf must run on this machine')
      .option('--repo <name>', 'the proxy repository to create or fill', 'pypi-mirror')
      .option('--upstream <url>', 'where the proxy reads from afterwards', 'https://pypi.org/simple/')
      .option('--offline', 'never ask the upstream: serve only what the mirror had')
      .option('--private', 'only users with a grant may read')
      .option('--jobs <n>', 'files fetched at once', '4')
      .action((dir: string, o: { repo: string; upstream: string; offline?: boolean; private?: boolean; jobs: string }) => run(async () => {
        const report = await migrateBandersnatch(clientFrom(globals()), { mirrorDir: dir, repo: o.repo, upstream: o.upstream, offline: !!o.offline, private: !!o.private, jobs: Math.max(1, Number(o.jobs) || 4) });
        out(globals().json ? JSON.stringify(report, null, 2) : report.summary(`bandersnatch ${dir}`));
      }));
  },
};
