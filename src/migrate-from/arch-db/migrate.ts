// Moving a repo-add directory into a Wharf Arch repository: each package the db lists whose
// bytes match its %SHA256SUM%, followed by its own detached signature (the `.sig` beside it, or
// the db's %PGPSIG% when there is no file), so Wharf keeps the packager's signature.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WharfApiError, type WharfClient } from '../../client/client.ts';
import { uploadBatches } from '../../cli/upload-files.ts';
import type { MigrationReport } from '../report.ts';
import type { ArchDbDir } from './read.ts';

async function sha256Of(path: string): Promise<string | null> {
  const h = createHash('sha256');
  try {
    await pipeline(createReadStream(path), h);
  } catch {
    return null;
  }
  return h.digest('hex');
}
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

export async function migrateArchDb(client: WharfClient, src: ArchDbDir, opts: { repo: string; jobs: number }, report: MigrationReport): Promise<void> {
  try {
    const repo = await client.getRepo(opts.repo);
    if (repo.format !== 'arch') throw new Error(`repository ${opts.repo} exists and is not an Arch repository (${repo.format}): choose another with --repo`);
    report.same('repository', opts.repo);
  } catch (err) {
    if (!(err instanceof WharfApiError) || err.status !== 404) throw err;
    await client.createRepo({ name: opts.repo, format: 'arch' });
    report.move('repository', opts.repo, `from ${src.dbFile}`);
  }
  for (const f of src.unlisted) report.skip('file', f, `not listed in ${src.dbFile}`);

  // Signatures known only from the db are written out beside a link to their package, so the
  // pair goes up together (the batch keeps a .sig right after its package).
  const scratch = await mkdtemp(join(tmpdir(), 'wharf-migrate-arch-'));
  try {
    const files: string[] = [];
    const pkgOf = new Map<string, string>();
    for (const p of src.packages) {
      const path = join(src.dir, p.filename);
      if (!p.filename || basename(p.filename) !== p.filename) {
        report.skip('package', p.filename || p.name, 'the db names no plain file name');
        continue;
      }
      const got = await sha256Of(path);
      if (got === null) {
        report.skip('package', p.filename, `listed in ${src.dbFile} but not in the directory`);
        continue;
      }
      if (got !== p.sha256) {
        report.skip('package', p.filename, `SHA256 ${got} does not match the db's ${p.sha256 || '(none)'}`);
        continue;
      }
      if (await isFile(`${path}.sig`)) {
        files.push(path, `${path}.sig`);
      } else if (p.pgpsig) {
        const link = join(scratch, p.filename);
        await symlink(path, link);
        await writeFile(`${link}.sig`, Buffer.from(p.pgpsig, 'base64'));
        files.push(link, `${link}.sig`);
      } else {
        files.push(path);
      }
      pkgOf.set(files[files.length - 1].endsWith('.sig') ? files[files.length - 2] : files[files.length - 1], p.filename);
    }
    await uploadBatches(client, opts.repo, files, {}, opts.jobs, undefined, (file, status, reason) => {
      const sig = file.endsWith('.sig');
      const name = sig ? `${pkgOf.get(file.slice(0, -4))}.sig` : pkgOf.get(file)!;
      const kind = sig ? 'file' : 'package';
      if (status === 'created') report.move(kind, name);
      else if (status === 'exists') report.same(kind, name);
      else report.skip(kind, name, reason ?? 'refused');
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
