// `wharf migrate-from <tool> …`: move the repositories, users and files another tool wrote
// (devpi, pypiserver, bandersnatch, reprepro, aptly, repo-add, a static tree) into a running
// Wharf over its API. Each source registers its own subcommand; all print a MigrationReport,
// and a second run of the same migration changes nothing.
import type { Command } from 'commander';
import type { GlobalOptions } from '../context.ts';
import { aptlySource, repreproSource } from '../../migrate-from/apt-tree/source.ts';
import { repoAddSource } from '../../migrate-from/arch-db/source.ts';
import { staticSource } from '../../migrate-from/static-tree/source.ts';
import { devpiSource } from '../../migrate-from/devpi/command.ts';
import { bandersnatchSource } from '../../migrate-from/bandersnatch/command.ts';
import { pypiserverSource } from '../../migrate-from/pypiserver/command.ts';

/** One source tool: adds `wharf migrate-from <tool>` with its own arguments. */
export interface MigrationSource {
  register(parent: Command, globals: () => GlobalOptions): void;
}

// Each source adds itself here (one line each).
const sources: MigrationSource[] = [
  devpiSource,
  repreproSource,
  aptlySource,
  repoAddSource,
  staticSource,
  pypiserverSource,
  bandersnatchSource,
];

export function registerMigrateFromCommands(program: Command, globals: () => GlobalOptions): void {
  const parent = program.command('migrate-from')
    .description('move repositories, users and files from another tool into this server (docs/migrate.md)');
  for (const s of sources) s.register(parent, globals);
}
