// `wharf snapshot create|list|delete`: named snapshots of a hosted repository, served at
// /<repo>/@<name>/; `wharf history purge`: forget a deleted file from every instant
// (time travel; docs/time-travel.md).
import type { Command } from 'commander';
import { clientFrom, out, run, table, type GlobalOptions } from '../context.ts';

export function registerSnapshotCommands(program: Command, globals: () => GlobalOptions): void {
  const snapshot = program.command('snapshot').description('named snapshots of a hosted repository: /<repo>/@<name>/ serves it as it was');
  snapshot.command('create <repo> <name>')
    .description('name the repository as it is now (or --at an instant within its history)')
    .option('--at <instant>', 'an ISO instant such as 2026-06-01T00:00:00Z (default: now)')
    .action((repo: string, name: string, o: { at?: string }) => run(async () => {
      const s = await clientFrom(globals()).createSnapshot(repo, name, o.at);
      if (globals().json) return out(JSON.stringify(s));
      out(`snapshot ${s.name} of ${repo} at ${s.at}: ${s.url}`);
    }));
  snapshot.command('list <repo>')
    .description('the snapshots of a repository')
    .action((repo: string) => run(async () => {
      const list = await clientFrom(globals()).listSnapshots(repo);
      if (globals().json) return out(JSON.stringify(list, null, 2));
      if (list.length === 0) return out('no snapshots');
      out(table([['NAME', 'AT', 'CREATED', 'BY'], ...list.map((s) => [s.name, s.at, s.createdAt.slice(0, 19), s.createdBy ?? '-'])]));
    }));
  snapshot.command('delete <repo> <name>')
    .description('delete a snapshot (gc then frees what only it kept)')
    .action((repo: string, name: string) => run(async () => {
      await clientFrom(globals()).deleteSnapshot(repo, name);
      if (!globals().json) out(`deleted snapshot ${name} of ${repo}`);
    }));
  const history = program.command('history').description('the history that time travel (/<repo>/@<instant>/) and snapshots serve');
  history.command('purge <repo> <path>')
    .description('forget a deleted file from every past instant and snapshot at once (a leaked secret; server administrators); gc then frees its bytes')
    .action((repo: string, path: string) => run(async () => {
      const r = await clientFrom(globals()).purgeHistory(repo, path);
      if (globals().json) return out(JSON.stringify(r));
      out(r.rows === 0 ? `${repo} had no history of ${r.path}` : `purged ${r.path} from the history of ${repo} (${r.rows} ${r.rows === 1 ? 'state' : 'states'}); the next gc frees its bytes`);
    }));
}
