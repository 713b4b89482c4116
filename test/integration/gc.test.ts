// Defect 9: gc frees blobs orphaned by a crash (a blob file with no row; a blob row no file
// references) once they are older than the grace period, never younger, and never a blob an
// upload is about to reference (committed, rows not yet written).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HOUR = 3600_000;

describe('gc', () => {
  let s: TestServer;
  let blobs: FsBlobStore;
  const put = (path: string, body: Buffer) => fetch(`${s.url}/files/${path}`, { method: 'PUT', headers: { authorization: s.adminAuth }, body });
  const get = (path: string) => fetch(`${s.url}/files/${path}`);

  /** A blob file left in place as a crash leaves it: committed, no row names it. */
  async function orphanFile(ageMs: number): Promise<string> {
    const body = randomBytes(1000);
    const path = blobs.pathOf(sha(body));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    const t = new Date(Date.now() - ageMs);
    await utimes(path, t, t);
    return sha(body);
  }

  before(async () => {
    s = await startServer();
    blobs = s.wharf.blobs as FsBlobStore;
    // No time-travel history: a deleted file's blob is unreferenced at once (historyDays: docs/time-travel.md).
    await s.wharf.createRepo({ name: 'files', format: 'files', options: { historyDays: 0 } });
  });
  after(() => s.close());

  it('frees orphaned blob files and rows older than the grace period, and keeps younger ones', async () => {
    const kept = randomBytes(500);
    assert.equal((await put('kept.bin', kept)).status, 201);
    const old = await orphanFile(2 * HOUR);
    const young = await orphanFile(60_000);
    // A blob row nothing references, its file gone (a crash between row and file work, or a lost disk).
    await s.wharf.store.insertBlob('f'.repeat(64), 123);
    // A deleted file's blob, uploaded long ago: its row stays until gc.
    const gone = randomBytes(700);
    assert.equal((await put('gone.bin', gone)).status, 201);
    const t = new Date(Date.now() - 2 * HOUR);
    await utimes(blobs.pathOf(sha(gone)), t, t);
    assert.equal((await fetch(`${s.url}/files/gone.bin`, { method: 'DELETE', headers: { authorization: s.adminAuth } })).status, 204);

    const r = await s.wharf.gc();
    assert.equal(existsSync(blobs.pathOf(old)), false, 'an old orphan file is freed');
    assert.equal(existsSync(blobs.pathOf(young)), true, 'a young orphan file is kept');
    assert.equal(existsSync(blobs.pathOf(sha(gone))), false, 'an old unreferenced blob is freed');
    assert.equal((await s.wharf.store.unreferencedBlobs('', 10)).some(
(b) => b.sha256 === 'f'.repeat(64)), false, 'a row without a file is dropped');
    assert.equal(r.blobs, 3);
    assert.equal(r.bytes, 1000 + 700 + 123);
    assert.equal(Buffer.compare(Buffer.from(await (await get('kept.bin')).arrayBuffer()), kept), 0);

    // With no grace (an operator's choice), the young orphan goes too.
    const r0 = await s.wharf.gc({ graceMs: 0 });
    assert.equal(existsSync(blobs.pathOf(young)), false);
    assert.equal(r0.blobs, 1);
  });

  it('never frees a blob committed for an upload whose rows are not written yet', async () => {
    // The seam: gc (with no grace at all) runs between the blob's commit and the rows' insert.
    const commit = blobs.commit.bind(blobs);
    blobs.commit = async (staged) => {
      await commit(staged);
      await s.wharf.gc({ graceMs: 0 });
    };
    try {
      // A new blob, and the blob of a deleted file uploaded again (its row is unreferenced).
      const fresh = randomBytes(2000);
      assert.equal((await put('race-new.bin', fresh)).status, 201);
      const again = randomBytes(3000);
      blobs.commit = commit;
      assert.equal((await put('race-again.bin', again)).status, 201);
      assert.equal((await fetch(`${s.url}/files/race-again.bin`, { method: 'DELETE', headers: { authorization: s.adminAuth } })).status, 204);
      blobs.commit = async (staged) => {
        await commit(staged);
        await s.wharf.gc({ graceMs: 0 });
      };
      assert.equal((await put('race-again.bin', again)).status, 201);
      blobs.commit = commit;
      for (const [path, body] of [['race-new.bin', fresh], ['race-again.bin', again]] as const) {
        const res = await get(path);
        assert.equal(res.status, 200, `${path} downloads`);
        assert.equal(sha(Buffer.from(await res.arrayBuffer())), sha(body));
      }
    } finally {
      blobs.commit = commit;
    }
  });
});
