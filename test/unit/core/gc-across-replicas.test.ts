// gc on one process never frees bytes that an upload on another process is committing, on
// either engine, however short the grace period: the upload pins its blobs in the database
// before storing them, gc claims a blob there before deleting it, and each waits for the
// other. Two Wharf instances on one database and one blob directory stand for two replicas.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';
import { twoCoreReplicas } from '../../helpers/core-replicas.ts';
import { engines } from '../../helpers/engines.ts';

async function read(blobs: FsBlobStore, sha256: string): Promise<string | null> {
  if (!(await blobs.has(sha256))) return null;
  const chunks: Buffer[] = [];
  for await (const c of blobs.open(sha256)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

for (const engine of engines()) {
  describe(`gc across replicas on ${engine.name}`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    after(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    const twoReplicas = () => twoCoreReplicas(engine, cleanup);

    it('keeps a blob that another replica has stored but not yet recorded', async () => {
      const { a, b } = await twoReplicas();
      const repo = await a.wharf.createRepo({ name: 'f', format: 'files' });
      // A stores the bytes, then stops before writing the rows that name them.
      let stored!: () => void;
      const isStored = new Promise<void>((r) => { stored = r; });
      let resume!: () => void;
      const gate = new Promise<void>((r) => { resume = r; });
      const commit = a.blobs.commit.bind(a.blobs);
      a.blobs.commit = async (staged) => {
        await commit(staged);
        stored();
        await gate;
      };
      const staged = await a.blobs.stage(Readable.from([Buffer.from('precious bytes')]));
      const upload = a.wharf.services.ingest(repo, { staged, filename: 'p.txt', fields: { path: ['p.txt'] } });
      await isStored;
      const freed = await b.wharf.gc({ graceMs: 0 });
      resume();
      const result = await upload;
      assert.equal(result.status, 'created');
      assert.equal(freed.blobs, 0, 'gc on the other replica freed nothing');
      const file = (await b.wharf.store.getFileByPath(repo.id, 'p.txt'))!;
      assert.equal(await read(b.blobs, file.sha256), 'precious bytes', 'the recorded file can be read');
      assert.equal(Number((await b.wharf.store.sql.get('SELECT COUNT(*) AS n FROM blob_pins'))!.n), 0, 'the upload left no pin behind');
    });

    it('stores the bytes again when gc deleted them just before an upload of the same bytes', async () => {
      const { a, b } = await twoReplicas();
      const repo = await a.wharf.createRepo({ name: 'f', format: 'files' });
      const up = async (w: typeof a, path: string) => w.wharf.services.ingest(repo, {
        staged: await w.blobs.stage(Readable.from([Buffer.from('same bytes')])), filename: path, fields: { path: [path] },
      });
      await up(a, 'one.txt');
      await a.wharf.packages.deleteFile(repo, 'one.txt');
      // gc frees the now unreferenced blob while B uploads the same bytes under another name.
      const [freed, second] = await Promise.all([a.wharf.gc({ graceMs: 0 }), up(b, 'two.txt')]);
      assert.equal(second.status, 'created');
      assert.ok(freed.blobs <= 1);
      const file = (await a.wharf.store.getFileByPath(repo.id, 'two.txt'))!;
      assert.equal(await read(a.blobs, file.sha256), 'same bytes');
    });
  });
}
