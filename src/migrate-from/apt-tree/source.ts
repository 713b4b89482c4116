// `wharf migrate-from reprepro <dir>` and `wharf migrate-from aptly <published-dir>`: both
// read a published APT tree (apt-tree/read.ts); reprepro's base directory also has
// conf/distributions, which names the suites.
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { clientFrom, run, type GlobalOptions } from '../../cli/context.ts';
import type { MigrationSource } from '../../cli/commands/migrate-from.ts';
import { printReport } from '../finish.ts';
import { MigrationReport } from '../report.ts';
import { keepSigner } from './keep-signer.ts';
import { migrateAptTree } from './migrate.ts';
import { readAptTree } from './read.ts';

function aptSource(tool: 'reprepro' | 'aptly', what: string): MigrationSource {
  return {
    register(parent: Command, globals: () => GlobalOptions) {
      parent.command(`${tool} <dir>`)
        .description(`an APT repository from ${what}: the same suites, components, architectures and packages, signed with the Wharf repository's key`)
        .option('--repo <name>', 'the Wharf repository to create or fill (default: the directory\'s name)')
        .option('--keep-signer <file>', 'an armored secret key (the old repository key, gpg --export-secret-keys --armor) that signs beside Wharf\'s key for a while')
        .option('--keep-signer-days <days>', 'how long the old key keeps signing', '30')
        .option('--keep-signer-passphrase-env <var>', 'the environment variable holding the old key\'s passphrase, if it has one')
        .option('--jobs <n>', 'batch requests at once', '2')
        .action((dir: string, o: { repo?: string; keepSigner?: string; keepSignerDays: string; keepSignerPassphraseEnv?: string; jobs: string }) => run(async () => {
          const root = resolve(dir);
          const repo = o.repo ?? basename(root);
          const client = clientFrom(globals());
          const report = new MigrationReport();
          const tree = await readAptTree(root);
          await migrateAptTree(client, tree, { repo, jobs: Math.max(1, Number(o.jobs) || 2) }, report);
          if (o.keepSigner) await keepSigner(client, repo, o.keepSigner, Number(o.keepSignerDays), report, o.keepSignerPassphraseEnv ? process.env[o.keepSignerPassphraseEnv] : undefined);
          printReport(report, `${tool} ${root} (suites from ${tree.from})`, globals());
        }));
    },
  };
}

export const repreproSource = aptSource('reprepro', 'a reprepro base directory (conf/distributions, dists/, pool/)');
export const aptlySource = aptSource('aptly', 'an aptly published directory (dists/ and pool/ below ~/.aptly/public[/prefix])');
