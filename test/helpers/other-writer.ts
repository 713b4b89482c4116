// A second process writing a running server's database, as another replica (or a command
// run beside the server) would: `node test/helpers/other-writer.ts <data dir> '<ops JSON>'`.
// It opens the core on the same files without the data directory's lock.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Wharf } from '../../src/core/wharf.ts';
import { openDatabase } from '../../src/db/database.ts';
import { Store } from '../../src/db/store.ts';
import { formats } from '../../src/formats/index.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { buildArchSample, buildDebSample, buildPypiSamples, type Sample } from './fuzz-corpus.ts';

export type OtherWrite =
  | { op: 'ingest'; repo: string; name: string }
  | { op: 'delete'; repo: string; name: string }
  | { op: 'recreate'; repo: string }
  | { op: 'action'; repo: string; action: string; args: Record<string, unknown> };

export async function sample(format: string, name: string): Promise<Sample> {
  if (format === 'apt') return buildDebSample(name, '1.0', 'gzip');
  if (format === 'arch') return buildArchSample(name, '1.0-1', 'gzip');
  return (await buildPypiSamples(name, '1.0'))[0];
}

export async function ingestSample(w: Wharf, repo: string, name: string): Promise<void> {
  const r = w.requireRepo(repo);
  const s = await sample(r.format, name);
  const fields: Record<string, string[]> = { suite: ['stable'], component: ['main'] };
  for (const [k, v] of Object.entries(s.fields ?? {})) fields[k] = [v];
  const staged = await w.blobs.stage(Readable.from([s.bytes]));
  await w.services.ingest(r, { staged, filename: s.filename, fields });
}

async function main(data: string, ops: OtherWrite[]): Promise<void> {
  const silent = { info() {}, warn() {}, error() {}, debug() {} };
  // The server's database: PostgreSQL when the test gave one (WHARF_DATABASE_URL), else its SQLite file.
  const store = new Store(await openDatabase(process.env.WHARF_DATABASE_URL ?? join(data, 'wharf.db')));
  const blobs = new FsBlobStore(join(data, 'blobs'));
  await blobs.init();
  const w = await Wharf.open(store, blobs, formats, silent);
  for (const o of ops) {
    if (o.op === 'ingest') await ingestSample(w, o.repo, o.name);
    else if (o.op === 'delete') await w.packages.deletePackage(w.requireRepo(o.repo), o.name);
    else if (o.op === 'action') {
      const repo = w.requireRepo(o.repo);
      await w.pluginFor(repo).actions![o.action](w.contextFor(repo), o.args);
    }
    else {
      const format = w.requireRepo(o.repo).format;
      await w.deleteRepo(o.repo);
      await w.createRepo({ name: o.repo, format });
    }
  }
  await w.publisher.flush();
  await store.sql.close();
}

if (import.meta.main) await main(process.argv[2], JSON.parse(process.argv[3]) as OtherWrite[]);
