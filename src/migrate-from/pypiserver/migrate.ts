// pypiserver -> Wharf: its packages folder becomes a hosted PyPI repository (as `wharf
// import` uploads it), its htpasswd users become Wharf users holding their old hashes (checked
// at their first login, then re-hashed with scrypt) with write on that repository, as
// pypiserver let every htpasswd user upload.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { WharfApiError, type WharfClient } from '../../client/client.ts';
import { uploadBatches, walk } from '../../cli/upload-files.ts';
import { MigrationReport } from '../report.ts';
import { parseHtpasswd } from './htpasswd.ts';

export interface PypiserverOptions {
  packagesDir: string;
  htpasswd?: string;
  repo: string;
  /** pypiserver with `-a download,list,update`: only users read. */
  private: boolean;
  jobs: number;
}

/** The repository, created when absent; a different one of that name stops the run. */
export async function ensureHostedPypi(client: WharfClient, report: MigrationReport, name: string, isPublic: boolean): Promise<void> {
  try {
    const r = await client.getRepo(name);
    if (r.format !== 'pypi' || r.kind !== 'hosted') throw new Error(`repository ${name} exists and is a ${r.kind} ${r.format} repository, not a hosted PyPI one: choose another with --repo`);
    report.same('repository', name);
  } catch (err) {
    if (!(err instanceof WharfApiError) || err.status !== 404) throw err;
    await client.createRepo({ name, format: 'pypi', kind: 'hosted', public: isPublic });
    report.move('repository', name);
  }
}

export async function migratePypiserver(client: WharfClient, o: PypiserverOptions): Promise<MigrationReport> {
  const report = new MigrationReport();
  await ensureHostedPypi(client, report, o.repo, !o.private);

  const files = await walk(o.packagesDir);
  await uploadBatches(client, o.repo, files, {}, o.jobs, undefined, (file, status, reason) => {
    const name = relative(o.packagesDir, file);
    if (status === 'created') report.move('file', name);
    else if (status === 'exists') report.same('file', name);
    else report.skip('file', name, reason ?? 'refused');
  });

  if (o.htpasswd) {
    const entries = parseHtpasswd(await readFile(o.htpasswd, 'utf8'));
    const users = new Map((await client.listUsers()).map((u) => [u.name, u]));
    for (const e of entries) {
      let user = users.get(e.name);
      if (user) report.same('user', e.name);
      else if (!e.scheme) {
        report.skip('user', e.name, e.reason ?? 'unknown hash');
        continue;
      } else {
        user = await client.importUser(e.name, e.hash);
        report.move('user', e.name, `${e.scheme} hash: checked at the first login, then re-hashed with scrypt`);
      }
      const has = user.grants.find((g) => g.repo === o.repo);
      if (has && (has.permission === 'write' || has.permission === 'admin')) report.same('grant', `${e.name} write ${o.repo}`);
      else {
        await client.grant(e.name, o.repo, 'write');
        report.move('grant', `${e.name} write ${o.repo}`);
      }
    }
  }
  return report;
}
