// A static tree (the jetson-style `dist/apt` folder of tarballs and files, served as plain
// files) becomes a files repository with the same paths: each directory's files go up as
// batches into that directory. A file already there with the same bytes is left alone; one
// with other bytes is refused by the server (no overwrite) and reported.
import { dirname, relative, sep } from 'node:path';
import { WharfApiError, type WharfClient } from '../../client/client.ts';
import { uploadBatches, walk } from '../../cli/upload-files.ts';
import type { MigrationReport } from '../report.ts';

/** The files below `root` grouped by their directory (posix, relative; '' for the root). */
export async function treeByDirectory(root: string): Promise<Map<string, string[]>> {
  const byDir = new Map<string, string[]>();
  for (const file of await walk(root)) {
    const dir = relative(root, dirname(file)).split(sep).join('/');
    byDir.set(dir, [...(byDir.get(dir) ?? []), file]);
  }
  return byDir;
}

export async function migrateStaticTree(client: WharfClient, root: string, opts: { repo: string; jobs: number }, report: MigrationReport): Promise<void> {
  try {
    const repo = await client.getRepo(opts.repo);
    if (repo.format !== 'files') throw new Error(`repository ${opts.repo} exists and is not a files repository (${repo.format}): choose another with --repo`);
    report.same('repository', opts.repo);
  } catch (err) {
    if (!(err instanceof WharfApiError) || err.status !== 404) throw err;
    await client.createRepo({ name: opts.repo, format: 'files' });
    report.move('repository', opts.repo);
  }
  for (const [dir, files] of await treeByDirectory(root)) {
    await uploadBatches(client, opts.repo, files, dir ? { dir } : {}, opts.jobs, undefined, (file, status, reason) => {
      const name = relative(root, file).split(sep).join('/');
      if (status === 'created') report.move('file', name);
      else if (status === 'exists') report.same('file', name);
      else report.skip('file', name, reason ?? 'refused');
    });
  }
}
